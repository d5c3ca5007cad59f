export * from "./schema";
export {
  createAccountsDb,
  pingDb,
  poolTimeouts,
  type AccountsDb,
  type AccountsDbOptions,
} from "./client";
