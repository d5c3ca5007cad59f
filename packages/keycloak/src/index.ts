export * from "./admin";
export {
  createKeycloakAdmin,
  DEFAULT_KEYCLOAK_TIMEOUT_MS,
  type KeycloakAdminOptions,
} from "./admin-client";
export { realmEndpoints, type RealmEndpoints } from "./realm-endpoints";
export * from "./user-state";
