export * from "./crd";
export * from "./types";
export * from "./conditions";
export * from "./errors";
export {
  createKubeClients,
  deadlineHttpLibrary,
  DEFAULT_REQUEST_TIMEOUT_MS,
  loadKubeConfig,
  type KubeClients,
  type KubeClientOptions,
} from "./client";
export { BouncerApi, preconditionOf, type BouncerPrecondition, type NewBouncer } from "./bouncers";
export { readTenantDbUrl, tenantDbUrlFromSecret, TenantSecretError } from "./secrets";
export { findBouncerPods, podSelectorFor } from "./pods";
export {
  deleteErgoCredential,
  ensureErgoCredential,
  ERGO_CREDENTIAL_KEY,
  ERGO_CREDENTIAL_SECRET_PREFIX,
  ergoAccountLabelValue,
  ErgoCredentialError,
  ergoCredentialKey,
  ergoCredentialSecretName,
  LABEL_ERGO_ACCOUNT,
  readErgoCredential,
} from "./credentials";
export { projectedResource } from "./projection";
