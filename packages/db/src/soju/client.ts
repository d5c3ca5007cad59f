import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { poolTimeouts } from "../accounts/client";
import { createPool } from "../pool";
import * as schema from "./schema";

export type SojuDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

/**
 * A small pool on one bouncer's tenant DB. Callers own it and must `close` it: the worker's
 * metric sweeps open one per tenant and close it right after.
 */
export function createSojuDb(
  databaseUrl: string,
  options: { max?: number; statementTimeoutMs?: number } = {},
): SojuDb {
  const pool = createPool({
    connectionString: databaseUrl,
    max: options.max ?? 2,
    connectionTimeoutMillis: 5_000,
    ...poolTimeouts(options.statementTimeoutMs),
  });
  return drizzle({ client: pool, schema });
}

export async function closeSojuDb(db: SojuDb): Promise<void> {
  await db.$client.end();
}
