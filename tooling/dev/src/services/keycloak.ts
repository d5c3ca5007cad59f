import { randomBytes } from "node:crypto";
import {
  accountPortalClient,
  defaultServiceAccounts,
  defaultUsers,
  ircNowUserProfile,
  startKeycloakStandin,
} from "@irc-now/standins/keycloak";
import { explainListenError, type FixedPort } from "../ports";
import type { Env, LocalService } from "../stack";

/** The stand-in's fixed port (its issuer URL is part of the OIDC configuration). */
export function keycloakPort(env: Env): FixedPort {
  return {
    service: "keycloak",
    variable: "DEV_KEYCLOAK_PORT",
    host: "127.0.0.1",
    port: Number(env.DEV_KEYCLOAK_PORT ?? 8180),
    anyFreePort: true,
  };
}

/** Keycloak stand-in (OIDC + admin API) with seeded logins, unless KEYCLOAK_ISSUER is set. */
export const keycloakService: LocalService = {
  name: "keycloak",
  async start(env) {
    const authUrl = env.AUTH_URL ?? "http://localhost:3000";
    const auth = {
      AUTH_URL: authUrl,
      AUTH_SECRET: env.AUTH_SECRET ?? randomBytes(32).toString("base64url"),
    };
    if (env.KEYCLOAK_ISSUER)
      return {
        env: auth,
        info: [`using Keycloak at ${env.KEYCLOAK_ISSUER}`],
        stop: async () => undefined,
      };
    const client = accountPortalClient(authUrl);
    const loopback = accountPortalClient(authUrl.replace("localhost", "127.0.0.1"));
    const port = keycloakPort(env);
    const kc = await startKeycloakStandin({
      port: port.port,
      clients: [
        {
          ...client,
          redirectUris: [...client.redirectUris, ...loopback.redirectUris],
          postLogoutRedirectUris: [
            ...(client.postLogoutRedirectUris ?? []),
            ...(loopback.postLogoutRedirectUris ?? []),
          ],
        },
      ],
      serviceAccounts: defaultServiceAccounts(),
      users: defaultUsers(),
      // As docs/keycloak-realm.md sets up production: plan and content_expires declared
      // (admin-edit only), other attributes dropped; the client's mappers put both into tokens.
      userProfile: ircNowUserProfile(),
      log: () => undefined,
    }).catch((error: unknown) => {
      throw explainListenError(error, port);
    });
    const admin = kc.serviceAccounts[0];
    return {
      env: {
        ...auth,
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
      info: [
        `Keycloak stand-in: ${kc.issuer}`,
        ...kc.users.map(
          (u) =>
            `sign in as ${u.username} / ${u.password}${u.realmRoles.includes("irc-now-admin") ? "  (admin)" : ""}`,
        ),
      ],
      stop: () => kc.stop(),
    };
  },
};
