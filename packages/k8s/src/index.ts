export * from "./crd";
export * from "./types";
export * from "./conditions";
export * from "./errors";
export {
  createKubeClients,
  loadKubeConfig,
  type KubeClients,
  type KubeClientOptions,
} from "./client";
export { BouncerApi, type NewBouncer } from "./bouncers";
export { readTenantDbUrl, tenantDbUrlFromSecret, TenantSecretError } from "./secrets";
export { findBouncerPods, podSelectorFor } from "./pods";
