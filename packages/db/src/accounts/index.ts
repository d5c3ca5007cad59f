export * from "./schema";
export { createAccountsDb, pingDb, type AccountsDb, type AccountsDbOptions } from "./client";
export { accountsMigrationsFolder, migrateAccounts } from "./migrate";
