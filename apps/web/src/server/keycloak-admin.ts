import "server-only";
import { createKeycloakAdmin, type KeycloakAdmin } from "@irc-now/keycloak";
import { env } from "~/env";

// One client per server process (it caches the service account's token until expiry); survives
// Next's dev-mode module reloads.
const globalForKeycloak = globalThis as unknown as { keycloakAdmin?: KeycloakAdmin };

/** Keycloak's admin API as the web's service account (`KEYCLOAK_ADMIN_CLIENT_ID` / `_SECRET`). */
export function keycloakAdmin(): KeycloakAdmin {
  if (!globalForKeycloak.keycloakAdmin) {
    const config = env();
    globalForKeycloak.keycloakAdmin = createKeycloakAdmin({
      issuer: config.KEYCLOAK_ISSUER,
      clientId: config.KEYCLOAK_ADMIN_CLIENT_ID,
      clientSecret: config.KEYCLOAK_ADMIN_CLIENT_SECRET,
    });
  }
  return globalForKeycloak.keycloakAdmin;
}
