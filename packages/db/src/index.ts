export * as accounts from "./accounts/index";
export * as soju from "./soju/index";
export { createAccountsDb, pingDb, poolTimeouts, type AccountsDb } from "./accounts/index";
export { createSojuDb, closeSojuDb, type SojuDb } from "./soju/index";
