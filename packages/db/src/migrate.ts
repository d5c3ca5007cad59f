// Kept out of the main entry point: bundlers (Next.js) would try to trace the migrations folder.
export { accountsMigrationsFolder, migrateAccounts } from "./accounts/migrate";
