export * from "./schema";
export { createAccountsDb, pingDb, type AccountsDb, type AccountsDbOptions } from "./client";
