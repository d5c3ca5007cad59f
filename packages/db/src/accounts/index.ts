export * from "./schema";
export * from "./import-sealing";
export {
  createAccountsDb,
  pingDb,
  poolTimeouts,
  type AccountsDb,
  type AccountsDbOptions,
} from "./client";
