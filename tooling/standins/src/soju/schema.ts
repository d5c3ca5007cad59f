import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type pg from "pg";

/** The schema version of soju v0.10.0/v0.10.1 (facts/soju.md §2). */
export const SOJU_SCHEMA_VERSION = 18;

const configSchema = `CREATE TABLE IF NOT EXISTS "Config" (
	id SMALLINT PRIMARY KEY,
	version INTEGER NOT NULL,
	CHECK(id = 1)
)`;

/** Formats a node-postgres error the way lib/pq prints one (`pq: <message>`). */
export function pqMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `pq: ${message}`;
}

let cachedStatements: Promise<string[]> | undefined;

/**
 * The statements of soju's full v18 schema, from the shared SQL file in @irc-now/db/testing,
 * without its "Config" parts (run separately, as soju does) and with `CREATE TYPE` moved after
 * the "User" table so that a database that already has the tables fails on "User" first, as the
 * real soju did (facts §2).
 */
export function schemaStatements(): Promise<string[]> {
  cachedStatements ??= (async () => {
    const require = createRequire(import.meta.url);
    const testingEntry = require.resolve("@irc-now/db/testing");
    const sql = await readFile(join(dirname(testingEntry), "soju-schema-v18.sql"), "utf8");
    const statements = sql
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("--"))
      .join("\n")
      .split(/;\s*\n/)
      .map((s) => s.trim().replace(/;$/, ""))
      .filter((s) => s.length > 0)
      .filter((s) => !/"Config"/.test(s));
    const typeIndex = statements.findIndex((s) => s.startsWith("CREATE TYPE"));
    const [createType] = typeIndex === -1 ? [] : statements.splice(typeIndex, 1);
    const userIndex = statements.findIndex((s) => s.startsWith('CREATE TABLE "User"'));
    if (createType) statements.splice(userIndex + 1, 0, createType);
    return statements;
  })();
  return cachedStatements;
}

/**
 * soju's `upgrade` at startup: in one transaction, create "Config" if missing, read the version,
 * run the whole schema when it is 0, refuse a newer schema, write the version. Errors carry soju's
 * texts; the caller prefixes `failed to open database: `.
 */
export async function upgradeSchema(client: pg.PoolClient): Promise<void> {
  await client.query("BEGIN");
  try {
    try {
      await client.query(configSchema);
    } catch (error) {
      throw new Error(`failed to create Config table: ${pqMessage(error)}`);
    }
    let version = 0;
    try {
      const result = await client.query<{ version: number }>('SELECT version FROM "Config"');
      version = result.rows[0]?.version ?? 0;
    } catch (error) {
      throw new Error(`failed to query schema version: ${pqMessage(error)}`);
    }
    if (version === SOJU_SCHEMA_VERSION) {
      await client.query("COMMIT");
      return;
    }
    if (version > SOJU_SCHEMA_VERSION) {
      throw new Error(
        `soju (version ${SOJU_SCHEMA_VERSION}) older than schema (version ${version})`,
      );
    }
    if (version === 0) {
      for (const statement of await schemaStatements()) {
        try {
          await client.query(statement);
        } catch (error) {
          throw new Error(`failed to initialize schema: ${pqMessage(error)}`);
        }
      }
    } else {
      // The stand-in only knows the full v18 schema, not soju's individual migrations.
      throw new Error(
        `failed to execute migration #${version}: soju stand-in cannot migrate from schema version ${version}`,
      );
    }
    await client.query(
      `INSERT INTO "Config" (id, version) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET version = $1`,
      [SOJU_SCHEMA_VERSION],
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
