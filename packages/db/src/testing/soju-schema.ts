import { readFile } from "node:fs/promises";
import pg from "pg";

const schemaFile = new URL("./soju-schema-v18.sql", import.meta.url);

/**
 * Builds soju's v18 schema in an empty database, the way soju does on its first start.
 * For tests and the soju stand-in only: production code never creates soju's tables.
 */
export async function createSojuSchemaForTests(databaseUrl: string): Promise<void> {
  const sql = await readFile(schemaFile, "utf8");
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
