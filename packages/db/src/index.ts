export * as accounts from "./accounts/index";
export * as soju from "./soju/index";
export {
  createAccountsDb,
  pingDb,
  poolTimeouts,
  type AccountsDb,
  type AccountsDbOrTx,
} from "./accounts/index";
export { createSojuDb, closeSojuDb, type SojuDb } from "./soju/index";
