import { dbEnv, loadConfig } from "@irc-now/config";
import { migrateAccounts } from "../accounts/migrate";

// `npm run db:migrate`: apply the accounts DB migrations to DATABASE_URL.
try {
  const { DATABASE_URL } = loadConfig([dbEnv]);
  await migrateAccounts(DATABASE_URL);
  console.log("accounts DB: migrations applied");
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
