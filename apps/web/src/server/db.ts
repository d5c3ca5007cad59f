import "server-only";
import { createAccountsDb, type AccountsDb } from "@irc-now/db";
import { dbConfig } from "~/env";

// One pool per server process; survives Next's dev-mode module reloads.
const globalForDb = globalThis as unknown as { accountsDb?: AccountsDb };

export function accountsDb(): AccountsDb {
  globalForDb.accountsDb ??= createAccountsDb(dbConfig().DATABASE_URL, {
    max: 10,
    connectionTimeoutMillis: 2_000,
  });
  return globalForDb.accountsDb;
}
