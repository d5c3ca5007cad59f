import { jwtVerify, type JWTPayload } from "jose";
import type { IssuedToken, StructuredToken } from "oidc-provider";
import type { SigningKey } from "./keys";
import {
  displayName,
  effectiveClientRoles,
  effectiveRealmRoles,
  type KeycloakUser,
  type UserStore,
} from "./users";

/** Scope Keycloak gives a service-account token when none is requested (default client scopes). */
export const SERVICE_ACCOUNT_SCOPE = "profile email";

export interface TokenContext {
  readonly issuer: string;
  readonly realm: string;
  readonly users: UserStore;
  readonly key: SigningKey;
}

/** Profile and email claims as Keycloak's default client scopes map them. */
export function userClaims(
  user: KeycloakUser,
  scopes: ReadonlySet<string>,
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has("profile")) {
    const name = displayName(user);
    if (name) claims.name = name;
    claims.preferred_username = user.username;
    if (user.firstName) claims.given_name = user.firstName;
    if (user.lastName) claims.family_name = user.lastName;
  }
  if (scopes.has("email")) {
    claims.email_verified = user.emailVerified;
    if (user.email) claims.email = user.email;
  }
  return claims;
}

/** Keycloak's audience mapper: every client the token carries roles of, except the caller. */
function audienceFor(resourceAccess: Record<string, unknown>, azp: string): string | string[] {
  const aud = Object.keys(resourceAccess).filter((clientId) => clientId !== azp);
  if (aud.length === 0) return "account";
  return aud.length === 1 ? aud[0]! : aud;
}

/**
 * oidc-provider `formats.customizers.jwt`: reshape its JWT access token into Keycloak's
 * (header `typ: JWT`; claims `typ: Bearer`, `azp`, `sid`, `realm_access`, `resource_access`,
 * profile/email claims by scope). Roles go into access tokens only, never ID tokens.
 */
export function customizeAccessToken(
  ctx: TokenContext,
  token: IssuedToken,
  jwt: StructuredToken,
): void {
  const payload = jwt.payload;
  jwt.header = { ...jwt.header, typ: "JWT" };
  const azp = token.clientId;
  let user: KeycloakUser | undefined;
  if (token.kind === "ClientCredentials") {
    user = ctx.users.serviceAccountFor(azp);
    payload.scope = token.scope ?? SERVICE_ACCOUNT_SCOPE;
    payload.client_id = azp;
  } else {
    user = token.accountId ? ctx.users.byId(token.accountId) : undefined;
    delete payload.client_id;
    if (token.sid) payload.sid = token.sid;
  }
  if (!user) throw new Error(`no user behind the ${token.kind} for ${azp}`);
  const resourceAccess = effectiveClientRoles(user);
  const scopes = new Set(String(payload.scope ?? "").split(" "));
  Object.assign(payload, {
    sub: user.id,
    typ: "Bearer",
    azp,
    aud: audienceFor(resourceAccess, azp),
    realm_access: { roles: effectiveRealmRoles(ctx.realm, user) },
    resource_access: resourceAccess,
    ...userClaims(user, scopes),
  });
}

export class TokenError extends Error {}

/** Verify an access token this realm issued (signature, issuer, expiry, `typ: Bearer`). */
export async function verifyAccessToken(ctx: TokenContext, token: string): Promise<JWTPayload> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, ctx.key.publicKey, {
      issuer: ctx.issuer,
      algorithms: ["RS256"],
    }));
  } catch (cause) {
    throw new TokenError("Token verification failed", { cause });
  }
  if (payload.typ !== "Bearer" || typeof payload.sub !== "string")
    throw new TokenError("Token is not an access token");
  return payload;
}

/** `resource_access.<clientId>.roles` of a verified token. */
export function clientRolesIn(payload: JWTPayload, clientId: string): string[] {
  const access = payload.resource_access as Record<string, { roles?: unknown }> | undefined;
  const roles = access?.[clientId]?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}
