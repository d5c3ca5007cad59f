import "server-only";
import { createAccountsDb, type accounts, type AccountsDb } from "@irc-now/db";
import { dbConfig } from "~/env";

/** The web's pool: tests of concurrency use the same size and wait. */
export const ACCOUNTS_POOL = {
  max: 10,
  connectionTimeoutMillis: 2_000,
} satisfies accounts.AccountsDbOptions;

// One pool per server process; survives Next's dev-mode module reloads.
const globalForDb = globalThis as unknown as { accountsDb?: AccountsDb };

export function accountsDb(): AccountsDb {
  globalForDb.accountsDb ??= createAccountsDb(dbConfig().DATABASE_URL, ACCOUNTS_POOL);
  return globalForDb.accountsDb;
}
