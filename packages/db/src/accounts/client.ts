import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { createPool } from "../pool";
import * as schema from "./schema";

export type AccountsDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

export interface AccountsDbOptions {
  max?: number;
  /** Fail fast when the DB is down so health checks answer quickly. */
  connectionTimeoutMillis?: number;
  /** Server-side cap on one statement (10 000 ms); the client gives up 2 s later. */
  statementTimeoutMs?: number;
}

/**
 * Deadlines every pool of ours sets: the server cancels a statement after `statementTimeoutMs`
 * and ends a session idling in a transaction; the client stops waiting 2 s after that, which
 * also covers a server (or proxy) that stalls without answering at all.
 */
export function poolTimeouts(statementTimeoutMs = 10_000) {
  return {
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: statementTimeoutMs * 3,
    query_timeout: statementTimeoutMs + 2_000,
  } satisfies pg.PoolConfig;
}

export function createAccountsDb(databaseUrl: string, options: AccountsDbOptions = {}): AccountsDb {
  const pool = createPool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
    ...poolTimeouts(options.statementTimeoutMs),
  });
  return drizzle({ client: pool, schema, casing: "snake_case" });
}

/** True when the accounts DB answers `SELECT 1` within `timeoutMs`. */
export async function pingDb(db: AccountsDb, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const ping = db.$client.query("SELECT 1").then(() => true);
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return await Promise.race([ping, timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
