// oidc-provider ships no TypeScript declarations. This pulls the ambient ones into every
// program that imports the stand-in (apps type-check these sources, not a build).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../types/oidc-provider.d.ts" />
/**
 * Keycloak stand-in: a real OpenID Provider (oidc-provider) shaped like a Keycloak realm,
 * plus the slice of the admin REST API the portal uses. See docs/stand-ins.md ("Keycloak").
 */
export { startKeycloakStandin } from "./standin";
export {
  accountPortalClient,
  DEFAULT_ADMIN_ROLE,
  DEFAULT_REALM,
  DEFAULT_REALM_MANAGEMENT_ROLES,
  defaultClients,
  defaultServiceAccounts,
  defaultUsers,
  ircNowUserProfile,
} from "./defaults";
export { generateSigningJwk } from "./keys";
export type {
  KeycloakClientConfig,
  KeycloakServiceAccountConfig,
  KeycloakStandin,
  KeycloakStandinOptions,
  SeededLogin,
} from "./types";
export type { KeycloakUser, UserAttributes, UserInput } from "./users";
export { userAttributeMapper, type ProtocolMapperConfig } from "./protocol-mappers";
export type { SentActionsEmail } from "./records";
export {
  adminEditOnlyAttribute,
  keycloakDefaultUserProfile,
  type UserProfileAttribute,
  type UserProfileConfig,
} from "./user-profile";
