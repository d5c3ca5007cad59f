import { randomBytes } from "node:crypto";
import pg from "pg";

/** Creates a fresh, uniquely named database on the server behind `serverUrl` and returns its URL. */
export async function createTestDatabase(serverUrl: string, prefix = "test"): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
