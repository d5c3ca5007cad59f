import { env } from "~/env";
import type { RoleRefreshConfig } from "./role-refresh";

/** Session lifetime without activity (each re-encoded cookie slides it, as next-auth does). */
export const SESSION_MAX_AGE_S = 8 * 60 * 60;

/** The role refresh's settings, from the web's configuration. */
export function roleRefreshConfig(): RoleRefreshConfig {
  const config = env();
  return {
    issuer: config.KEYCLOAK_ISSUER.replace(/\/+$/, ""),
    clientId: config.KEYCLOAK_CLIENT_ID,
    clientSecret: config.KEYCLOAK_CLIENT_SECRET,
    adminRole: config.ADMIN_ROLE,
    intervalS: config.AUTH_ROLE_REFRESH_S,
  };
}

/** next-auth's session cookie name: `__Secure-` prefixed when the site is served over https. */
export function sessionCookieName(): string {
  return `${env().AUTH_URL.startsWith("https://") ? "__Secure-" : ""}next-auth.session-token`;
}
