import { jwtVerify, type JWTPayload } from "jose";
import type { IssuedToken, StructuredToken } from "oidc-provider";
import type { SigningKey } from "./keys";
import { mappedClaims, type ProtocolMapperConfig } from "./protocol-mappers";
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
  /** Login clients, for their protocol mappers. */
  readonly clients?: readonly { clientId: string; protocolMappers?: ProtocolMapperConfig[] }[];
  readonly revocation?: TokenRevocation;
}

/**
 * The realm's "not before" (Keycloak: Sessions → Revocation → Set to now): access tokens
 * issued before it are refused. Kept per token id with millisecond issue times, because
 * Keycloak's check (`iat` in seconds) would keep a token issued in the same second valid
 * and make a test of it depend on the clock.
 */
export class TokenRevocation {
  readonly #issuedAt = new Map<string, number>();
  #notBefore = 0;

  issued(jti: string): void {
    this.#issuedAt.set(jti, Date.now());
  }

  revokeAll(): void {
    this.#notBefore = Date.now() + 1;
    this.#issuedAt.clear();
  }

  isRevoked(jti: unknown): boolean {
    if (this.#notBefore === 0) return false;
    const at = typeof jti === "string" ? this.#issuedAt.get(jti) : undefined;
    return at === undefined || at < this.#notBefore;
  }
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
    ...mappedClaims(clientMappers(ctx, azp), user, "access.token.claim"),
  });
  if (typeof payload.jti === "string") ctx.revocation?.issued(payload.jti);
}

/** The protocol mappers of login client `clientId` (service accounts have none). */
export function clientMappers(
  ctx: TokenContext,
  clientId: unknown,
): ProtocolMapperConfig[] | undefined {
  return ctx.clients?.find((c) => c.clientId === clientId)?.protocolMappers;
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
  if (ctx.revocation?.isRevoked(payload.jti)) throw new TokenError("Token was revoked");
  return payload;
}

/** `resource_access.<clientId>.roles` of a verified token. */
export function clientRolesIn(payload: JWTPayload, clientId: string): string[] {
  const access = payload.resource_access as Record<string, { roles?: unknown }> | undefined;
  const roles = access?.[clientId]?.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
}
