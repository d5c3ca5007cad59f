import { randomBytes } from "node:crypto";
import type { LocalService } from "@irc-now/dev";
import {
  accountPortalClient,
  defaultServiceAccounts,
  defaultUsers,
  startKeycloakStandin,
  type UserInput,
} from "@irc-now/standins/keycloak";

/**
 * The Keycloak stand-in as `npm run dev` starts it (its logins alice and admin), plus `users`:
 * logins a browser test needs that a developer does not (e.g. a username IRC cannot have).
 */
export function keycloakWithUsers(users: UserInput[]): LocalService {
  return {
    name: "keycloak",
    async start(env) {
      const authUrl = env.AUTH_URL ?? "http://localhost:3000";
      const client = accountPortalClient(authUrl);
      const kc = await startKeycloakStandin({
        port: Number(env.DEV_KEYCLOAK_PORT ?? 0),
        clients: [client],
        serviceAccounts: defaultServiceAccounts(),
        users: [...defaultUsers(), ...users],
        log: () => undefined,
      });
      const admin = kc.serviceAccounts[0];
      return {
        env: {
          AUTH_URL: authUrl,
          AUTH_SECRET: env.AUTH_SECRET ?? randomBytes(32).toString("base64url"),
          KEYCLOAK_ISSUER: kc.issuer,
          KEYCLOAK_CLIENT_ID: client.clientId,
          KEYCLOAK_CLIENT_SECRET: client.clientSecret,
          ...(admin
            ? {
                KEYCLOAK_ADMIN_CLIENT_ID: admin.clientId,
                KEYCLOAK_ADMIN_CLIENT_SECRET: admin.clientSecret,
              }
            : {}),
        },
        stop: () => kc.stop(),
      };
    },
  };
}
