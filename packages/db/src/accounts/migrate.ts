import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

export const accountsMigrationsFolder = fileURLToPath(
  new URL("../../migrations/accounts", import.meta.url),
);

/** Applies the committed SQL migrations; already-applied ones are skipped (idempotent). */
export async function migrateAccounts(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Serialise concurrent migrators (e.g. several web replicas starting at once).
    await client.query("SELECT pg_advisory_lock(7262636)");
    await migrate(drizzle({ client }), { migrationsFolder: accountsMigrationsFolder });
  } finally {
    await client.query("SELECT pg_advisory_unlock(7262636)").catch(() => undefined);
    await client.end();
  }
}
