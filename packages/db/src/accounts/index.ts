export * from "./schema";
export * from "./import-sealing";
export * from "./keycloak-outbox";
export {
  createAccountsDb,
  pingDb,
  poolTimeouts,
  type AccountsDb,
  type AccountsDbOptions,
} from "./client";
