import { decodeJwt } from "jose";
import type { Account, Client, KoaContextWithOIDC } from "oidc-provider";
import { adapterFor, type ProviderStore } from "./adapter";
import type { SigningKey } from "./keys";
import { endSessionWithHint, logoutSource, postLogoutSuccessSource } from "./logout";
import { errorPage } from "./pages";
import { errors, Provider } from "./oidc-provider";
import { matchesRegisteredUri, originsOf } from "./redirect-uris";
import { mappedClaimNames, mappedClaims } from "./protocol-mappers";
import type { StandinRecords } from "./records";
import {
  clientMappers,
  customizeAccessToken,
  SERVICE_ACCOUNT_SCOPE,
  userClaims,
  type TokenRevocation,
} from "./tokens";
import type { KeycloakClientConfig, KeycloakServiceAccountConfig } from "./types";
import type { UserStore } from "./users";

/** Keycloak's endpoint paths, relative to the issuer `/realms/<realm>`. */
export const OIDC_ROUTES = {
  authorization: "/protocol/openid-connect/auth",
  token: "/protocol/openid-connect/token",
  jwks: "/protocol/openid-connect/certs",
  userinfo: "/protocol/openid-connect/userinfo",
  end_session: "/protocol/openid-connect/logout",
  pushed_authorization_request: "/protocol/openid-connect/ext/par/request",
} as const;

/**
 * The one resource indicator every token is issued for. oidc-provider issues JWT access
 * tokens only for a resource server (`accessTokenFormat: "jwt"`); defaulting every request
 * to this resource makes all access tokens JWTs, as Keycloak's are.
 */
export const ACCESS_TOKEN_RESOURCE = "urn:keycloak-standin:access-token";

const SCOPES = [
  "openid",
  "offline_access",
  "profile",
  "email",
  "roles",
  "web-origins",
  "acr",
  "basic",
];

export interface ProviderContext {
  readonly issuer: string;
  readonly realm: string;
  readonly store: ProviderStore;
  readonly users: UserStore;
  readonly key: SigningKey;
  readonly cookieKeys: string[];
  readonly clients: readonly KeycloakClientConfig[];
  readonly serviceAccounts: readonly KeycloakServiceAccountConfig[];
  readonly accessTokenLifespan: number;
  readonly revocation: TokenRevocation;
  readonly records: StandinRecords;
  readonly log: (line: string) => void;
}

function clientMetadata(ctx: ProviderContext) {
  return [
    ...ctx.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      ...(c.name ? { client_name: c.name } : {}),
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      require_auth_time: true,
    })),
    ...ctx.serviceAccounts.map((s) => ({
      client_id: s.clientId,
      client_secret: s.clientSecret,
      redirect_uris: [],
      grant_types: ["client_credentials"],
      response_types: [],
      token_endpoint_auth_method: "client_secret_basic",
    })),
  ];
}

export function createProvider(ctx: ProviderContext): Provider {
  const issuerPath = new URL(ctx.issuer).pathname;
  const lifespan = ctx.accessTokenLifespan;
  const tokenCtx = {
    issuer: ctx.issuer,
    realm: ctx.realm,
    users: ctx.users,
    key: ctx.key,
    clients: ctx.clients,
    revocation: ctx.revocation,
  };
  const loginClient = (clientId: string) => ctx.clients.find((c) => c.clientId === clientId);

  const provider = new Provider(ctx.issuer, {
    adapter: adapterFor(ctx.store),
    clients: clientMetadata(ctx),
    jwks: { keys: [ctx.key.jwk] },
    cookies: {
      names: { session: "KEYCLOAK_SESSION", interaction: "AUTH_SESSION_ID", resume: "KC_RESTART" },
      // Scoped to the realm like Keycloak's, so they never reach an app on the same host.
      long: { httpOnly: true, sameSite: "lax", path: `${issuerPath}/` },
      short: { httpOnly: true, sameSite: "lax" },
      keys: ctx.cookieKeys,
    },
    routes: { ...OIDC_ROUTES },
    scopes: SCOPES,
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      // Claims of clients' User Attribute mappers come with every token of that client, as
      // Keycloak's client-dedicated mappers do, whatever the scope; `findAccount` decides.
      openid: ["sub", ...mappedClaimNames(ctx.clients)],
      profile: ["name", "given_name", "family_name", "preferred_username"],
      email: ["email", "email_verified"],
    },
    responseTypes: ["code"],
    // Confidential clients only; either secret method works for any client, as in Keycloak.
    clientAuthMethods: [
      "client_secret_basic",
      "client_secret_post",
      "client_secret_jwt",
      "private_key_jwt",
    ],
    // ID tokens carry the profile/email claims of their scopes (Keycloak's default mappers).
    conformIdTokenClaims: false,
    pkce: { required: (_koa, client) => loginClient(client.clientId)?.requirePkce ?? true },
    clientBasedCORS: (_koa, origin, client) => originsOf(client.redirectUris).has(origin),
    async findAccount(koa, sub): Promise<Account | undefined> {
      const user = ctx.users.byId(sub);
      if (!user || !user.enabled || user.serviceAccountClientId) return undefined;
      const mappers = clientMappers(tokenCtx, koa.oidc?.client?.clientId);
      return {
        accountId: user.id,
        claims: (use) => {
          const current = ctx.users.byId(sub) ?? user;
          const target = use === "id_token" ? "id.token.claim" : "userinfo.token.claim";
          return {
            sub: current.id,
            ...userClaims(current, new Set(["profile", "email"])),
            ...mappedClaims(mappers, current, target),
          };
        },
      };
    },
    interactions: {
      url: (_koa, interaction) => `${issuerPath}/login-actions/authenticate/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: logoutSource(ctx.realm),
        postLogoutSuccessSource: postLogoutSuccessSource(ctx.realm),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ACCESS_TOKEN_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_koa: KoaContextWithOIDC, indicator: string) => {
          if (indicator !== ACCESS_TOKEN_RESOURCE) throw new errors.InvalidTarget();
          return {
            scope: SCOPES.join(" "),
            audience: "account",
            accessTokenFormat: "jwt",
            accessTokenTTL: lifespan,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
    formats: {
      customizers: { jwt: (_koa, token, jwt) => customizeAccessToken(tokenCtx, token, jwt) },
    },
    // Keycloak hands out a refresh token with every code exchange and a new one on refresh.
    issueRefreshToken: (_koa, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: lifespan,
      ClientCredentials: lifespan,
      IdToken: lifespan,
      AuthorizationCode: 60,
      RefreshToken: 1800,
      Interaction: 1800,
      Session: 36000,
      Grant: 36000,
    },
    renderError: (koa, out) => {
      koa.type = "html";
      koa.body = errorPage(ctx.realm, String(out.error_description ?? out.error));
    },
  });

  // Keycloak puts `sid` into every ID token; oidc-provider only for back-channel clients.
  provider.Client.prototype.includeSid = () => true;
  // Keycloak's trailing-`*` wildcards in redirect and post-logout redirect URIs.
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
  provider.Client.prototype.redirectUriAllowed = function (this: Client, value: string) {
    return redirectUriAllowed.call(this, value) || matchesRegisteredUri(this.redirectUris, value);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function (this: Client, value: string) {
    return (
      postLogoutRedirectUriAllowed.call(this, value) ||
      matchesRegisteredUri(this.postLogoutRedirectUris, value)
    );
  };

  provider.use(
    endSessionWithHint({
      realm: ctx.realm,
      store: ctx.store,
      sessionCookie: () => provider.cookieName("session"),
      sessionCookieOptions: { httpOnly: true, sameSite: "lax", path: `${issuerPath}/` },
    }),
  );
  // Keycloak's service-account token response names the default client scopes. ID tokens the
  // token endpoint hands out are recorded per user, for tests to read what a client received.
  provider.use(async (koa, next) => {
    await next();
    const body = koa.body as Record<string, unknown> | undefined;
    if (koa.oidc?.route === "token" && typeof body?.id_token === "string") {
      const claims = decodeJwt(body.id_token);
      const user = typeof claims.sub === "string" ? ctx.users.byId(claims.sub) : undefined;
      if (user) ctx.records.idTokenIssued(user.username, claims);
    }
    if (
      koa.oidc?.route === "token" &&
      koa.oidc.params?.grant_type === "client_credentials" &&
      body?.access_token &&
      !body.scope
    ) {
      body.scope = SERVICE_ACCOUNT_SCOPE;
    }
  });
  provider.on("server_error", (_koa, err) =>
    ctx.log(`keycloak stand-in: server error: ${String((err as Error)?.stack ?? err)}`),
  );
  return provider;
}
