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

/**
 * Keycloak's admin REST API as an admin's script uses it, through the service account the
 * stack configures (`KEYCLOAK_ADMIN_CLIENT_ID`/`_SECRET`): works against the stand-in and a
 * real Keycloak alike.
 */
export function keycloakAdminApi(env: Record<string, string | undefined>) {
  const issuer = env.KEYCLOAK_ISSUER!;
  const adminUrl = issuer.replace("/realms/", "/admin/realms/");
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const tokenRes = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from(
          `${env.KEYCLOAK_ADMIN_CLIENT_ID}:${env.KEYCLOAK_ADMIN_CLIENT_SECRET}`,
        ).toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    return fetch(`${adminUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
    });
  };
  const userId = async (username: string): Promise<string> => {
    const res = await call(`/users?exact=true&username=${encodeURIComponent(username)}`);
    const [user] = (await res.json()) as { id: string }[];
    if (!user) throw new Error(`no Keycloak user ${username}`);
    return user.id;
  };
  const expect204 = (res: Response, what: string) => {
    if (res.status !== 204) throw new Error(`${what} answered ${res.status}`);
  };
  return {
    /** `DELETE /users/{id}/role-mappings/realm` with the role's representation. */
    async removeRealmRole(username: string, role: string): Promise<void> {
      const rep: unknown = await (await call(`/roles/${encodeURIComponent(role)}`)).json();
      const res = await call(`/users/${await userId(username)}/role-mappings/realm`, {
        method: "DELETE",
        body: JSON.stringify([rep]),
      });
      expect204(res, "role-mappings DELETE");
    },
    /** `PUT /users/{id}` with `enabled: false`. */
    async disableUser(username: string): Promise<void> {
      const res = await call(`/users/${await userId(username)}`, {
        method: "PUT",
        body: JSON.stringify({ enabled: false }),
      });
      expect204(res, "user PUT");
    },
  };
}
