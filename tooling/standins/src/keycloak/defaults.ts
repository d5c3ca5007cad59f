import { userAttributeMapper } from "./protocol-mappers";
import type { KeycloakClientConfig, KeycloakServiceAccountConfig } from "./types";
import {
  adminEditOnlyAttribute,
  keycloakDefaultUserProfile,
  type UserProfileConfig,
} from "./user-profile";
import type { UserInput } from "./users";

export const DEFAULT_REALM = "irc-now";
export const DEFAULT_ADMIN_ROLE = "irc-now-admin";
export const DEFAULT_ACCESS_TOKEN_LIFESPAN = 300;
export const DEFAULT_REALM_MANAGEMENT_ROLES: readonly string[] = [
  "view-users",
  "query-users",
  "manage-users",
];

/** The attributes the portal pushes (DESIGN.md §2 "Plans and Keycloak attributes"). */
export const PORTAL_ATTRIBUTES = ["plan", "content_expires"] as const;

/**
 * The irc.now realm's user profile (docs/keycloak-realm.md): Keycloak's default root
 * attributes plus `plan` and `content_expires`, which only admins (the portal's service
 * account) may change. No `unmanagedAttributePolicy`: other attributes are dropped.
 */
export function ircNowUserProfile(): UserProfileConfig {
  const profile = keycloakDefaultUserProfile();
  profile.attributes.push(
    adminEditOnlyAttribute("plan", { options: { options: ["free", "pro"] } }),
    adminEditOnlyAttribute("content_expires", { options: { options: ["true", "false"] } }),
  );
  return profile;
}

/**
 * The `account-portal` client for a next-auth app at `authUrl` (next-auth's Keycloak
 * callback is `<AUTH_URL>/api/auth/callback/keycloak`); sign-out may return anywhere under it.
 */
export function accountPortalClient(
  authUrl = "http://localhost:3000",
  overrides: Partial<KeycloakClientConfig> = {},
): KeycloakClientConfig {
  const base = authUrl.replace(/\/+$/, "");
  return {
    clientId: "account-portal",
    clientSecret: "account-portal-secret",
    name: "irc.now",
    redirectUris: [`${base}/api/auth/callback/keycloak`],
    postLogoutRedirectUris: [base, `${base}/*`],
    protocolMappers: PORTAL_ATTRIBUTES.map(userAttributeMapper),
    ...overrides,
  };
}

/** Default login clients: the portal reachable as both localhost and 127.0.0.1 on :3000. */
export function defaultClients(): KeycloakClientConfig[] {
  const local = accountPortalClient("http://localhost:3000");
  const loopback = accountPortalClient("http://127.0.0.1:3000");
  return [
    {
      ...local,
      redirectUris: [...local.redirectUris, ...loopback.redirectUris],
      postLogoutRedirectUris: [
        ...(local.postLogoutRedirectUris ?? []),
        ...(loopback.postLogoutRedirectUris ?? []),
      ],
    },
  ];
}

export function defaultServiceAccounts(): KeycloakServiceAccountConfig[] {
  return [
    {
      clientId: "irc-now-admin-api",
      clientSecret: "irc-now-admin-api-secret",
      realmManagementRoles: [...DEFAULT_REALM_MANAGEMENT_ROLES],
    },
  ];
}

/** A normal user and an admin (realm role `irc-now-admin`). */
export function defaultUsers(): UserInput[] {
  return [
    {
      username: "alice",
      password: "alice-password",
      email: "alice@irc-now.test",
      firstName: "Alice",
      lastName: "Liddell",
      emailVerified: true,
    },
    {
      username: "admin",
      password: "admin-password",
      email: "admin@irc-now.test",
      firstName: "Ada",
      lastName: "Admin",
      emailVerified: true,
      realmRoles: [DEFAULT_ADMIN_ROLE],
    },
  ];
}
