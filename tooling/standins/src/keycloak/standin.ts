import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { handleAdminApi } from "./admin-api";
import { ProviderStore } from "./adapter";
import {
  DEFAULT_ACCESS_TOKEN_LIFESPAN,
  DEFAULT_REALM,
  DEFAULT_REALM_MANAGEMENT_ROLES,
  defaultClients,
  defaultServiceAccounts,
  defaultUsers,
  ircNowUserProfile,
} from "./defaults";
import { BodyTooLargeError, readBody, sendJson } from "./http";
import { handleInteraction } from "./interactions";
import { generateCookieKeys, signingKey } from "./keys";
import { createProvider, OIDC_ROUTES } from "./provider";
import { StandinRecords } from "./records";
import { handleStandinEndpoint, STANDIN_PREFIX } from "./standin-endpoints";
import { TokenRevocation } from "./tokens";
import type { KeycloakStandin, KeycloakStandinOptions, SeededLogin } from "./types";
import {
  adminEditOnlyAttribute,
  keycloakDefaultUserProfile,
  type UserProfileConfig,
} from "./user-profile";
import { handleUserinfo } from "./userinfo";
import { UserStore, type KeycloakUser } from "./users";

const HOST = "127.0.0.1";

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Start a wire-level Keycloak stand-in on 127.0.0.1: an OpenID Provider (oidc-provider)
 * at `/realms/<realm>` with Keycloak's endpoint paths, a login page, JWT access tokens
 * with `realm_access`/`resource_access`, end-session, and a minimal admin REST API.
 */
export async function startKeycloakStandin(
  options: KeycloakStandinOptions = {},
): Promise<KeycloakStandin> {
  const realm = options.realm ?? DEFAULT_REALM;
  if (!/^[A-Za-z0-9._-]+$/.test(realm)) throw new Error(`invalid realm name: ${realm}`);
  const log = options.log ?? ((line: string) => console.error(line));
  const clients = options.clients ?? defaultClients();
  const serviceAccounts = options.serviceAccounts ?? defaultServiceAccounts();
  const clientIds = [...clients, ...serviceAccounts].map((c) => c.clientId);
  if (new Set(clientIds).size !== clientIds.length) throw new Error("client ids must be unique");

  const users = new UserStore(realm);
  const seeded: SeededLogin[] = [];
  for (const input of options.users ?? defaultUsers()) {
    const user = users.add(input);
    if (input.password !== undefined) {
      seeded.push({
        id: user.id,
        username: user.username,
        password: input.password,
        ...(user.email ? { email: user.email } : {}),
        realmRoles: user.realmRoles,
      });
    }
  }
  for (const account of serviceAccounts) {
    users.add(
      {
        username: `service-account-${account.clientId}`,
        emailVerified: false,
        clientRoles: {
          "realm-management": [...(account.realmManagementRoles ?? DEFAULT_REALM_MANAGEMENT_ROLES)],
        },
      },
      account.clientId,
    );
  }

  const records = new StandinRecords();
  const revocation = new TokenRevocation();
  let handler: Handler = async (_req, res) => sendJson(res, 503, { error: "starting" });
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        if (!res.headersSent) sendJson(res, 413, { error: "request entity too large" });
        return;
      }
      log(`keycloak stand-in: ${req.method} ${req.url}: ${String((err as Error)?.stack ?? err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "unknown_error" });
      else res.destroy();
    });
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const listen = (at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(at, HOST, () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const origin = `http://${HOST}:${port}`;
  const realmPath = `/realms/${realm}`;
  const issuer = `${origin}${realmPath}`;

  const store = new ProviderStore();
  const key = signingKey(options.signingJwk);
  const tokenCtx = { issuer, realm, users, key, clients, revocation };
  const provider = createProvider({
    ...tokenCtx,
    store,
    cookieKeys: options.cookieKeys ?? generateCookieKeys(),
    clients,
    serviceAccounts,
    accessTokenLifespan: options.accessTokenLifespanSeconds ?? DEFAULT_ACCESS_TOKEN_LIFESPAN,
    records,
    log,
  });
  const oidc = provider.callback();
  const loginActions = `${realmPath}/login-actions/authenticate`;
  const interactionCtx = {
    provider,
    users,
    realm,
    basePath: loginActions,
    clientName: (clientId: string | undefined) =>
      clients.find((c) => c.clientId === clientId)?.name,
  };
  const profile = { current: initialUserProfile(options) };
  const adminCtx = { ...tokenCtx, profile, loginClients: clients, records };

  handler = async (req, res) => {
    const url = new URL(req.url ?? "/", origin);
    const path = url.pathname;
    if (path === realmPath || path === `${realmPath}/`) {
      sendJson(res, 200, {
        realm,
        public_key: key.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
        "token-service": `${issuer}/protocol/openid-connect`,
        "account-service": `${issuer}/account`,
        "tokens-not-before": 0,
      });
      return;
    }
    if (path.startsWith(`${loginActions}/`)) {
      await handleInteraction(interactionCtx, req, res, path.slice(loginActions.length + 1));
      return;
    }
    if (path === `${realmPath}${OIDC_ROUTES.userinfo}`) {
      await handleUserinfo({ ...tokenCtx, store }, req, res);
      return;
    }
    if (path.startsWith(`${realmPath}/`)) {
      if (path === `${realmPath}${OIDC_ROUTES.end_session}` && req.method === "POST") {
        await logoutPostAsGet(req, url);
      }
      // Mount oidc-provider under the issuer path, as a router with a prefix would.
      const originalUrl = req.url ?? "/";
      Object.assign(req, {
        originalUrl,
        baseUrl: realmPath,
        url: originalUrl.slice(realmPath.length),
      });
      await oidc(req, res);
      return;
    }
    if (path.startsWith("/admin/realms/")) {
      await handleAdminApi(adminCtx, req, res, url);
      return;
    }
    if (path.startsWith(STANDIN_PREFIX)) {
      handleStandinEndpoint(records, req, res, url);
      return;
    }
    sendJson(res, 404, { error: "Unable to find matching target resource method" });
  };

  return {
    issuer,
    origin,
    port,
    realm,
    adminUrl: `${origin}/admin/realms/${realm}`,
    clients,
    serviceAccounts,
    users: seeded,
    getUser(usernameOrId: string): KeycloakUser | undefined {
      return users.byId(usernameOrId) ?? users.byUsername(usernameOrId);
    },
    addUser: (input) => users.add(input),
    userProfile: () => structuredClone(profile.current),
    sentEmails: (username) => records.emails(username),
    issuedIdTokenClaims: (username) => records.idTokenClaims(username),
    revokeAccessTokens: () => revocation.revokeAll(),
    async outage() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      let restored = false;
      return {
        async restore() {
          if (restored) return;
          await listen(port);
          restored = true;
        },
      };
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      store.clear();
    },
  };
}

/** `userProfile`, or the one the older `unmanagedAttributePolicy` shorthand describes. */
function initialUserProfile(options: KeycloakStandinOptions): UserProfileConfig {
  if (options.userProfile) return structuredClone(options.userProfile);
  if (options.unmanagedAttributePolicy === "DISABLED") {
    const profile = keycloakDefaultUserProfile();
    for (const name of options.managedAttributes ?? [])
      profile.attributes.push(adminEditOnlyAttribute(name));
    return profile;
  }
  return { ...ircNowUserProfile(), unmanagedAttributePolicy: "ENABLED" };
}

/**
 * Keycloak accepts the logout request as a form POST too. oidc-provider only takes POST
 * there when its session cookie is SameSite=None (which needs https), so the form is
 * turned into the equivalent GET request before it reaches the provider.
 */
async function logoutPostAsGet(req: IncomingMessage, url: URL): Promise<void> {
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  const body = await readBody(req);
  const params = type.startsWith("application/x-www-form-urlencoded")
    ? new URLSearchParams(body)
    : new URLSearchParams();
  req.method = "GET";
  delete req.headers["content-type"];
  delete req.headers["content-length"];
  delete req.headers["transfer-encoding"];
  req.url = `${url.pathname}?${params.toString()}`;
}
