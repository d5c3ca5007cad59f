import type { JWT } from "next-auth/jwt";
import {
  AccessTokenRejected,
  KeycloakUnavailable,
  verifyAccessToken,
  type KeycloakClient,
} from "./keycloak-token";

/**
 * How long a session outlives a Keycloak outage: past the last access token's own expiry (or the
 * last check plus the interval, whichever is later), a session whose roles cannot be re-read is
 * ended. Bounded so a role removed during an outage still stops working soon after.
 */
export const OUTAGE_GRACE_S = 10 * 60;

export interface RoleRefreshConfig extends KeycloakClient {
  clientSecret: string;
  adminRole: string;
  /** AUTH_ROLE_REFRESH_S */
  intervalS: number;
}

/** The session token's Keycloak part (next-auth's JWT, see options.ts). */
export interface KeycloakSessionFields {
  refreshToken?: string;
  /** The last verified access token's `exp`, epoch seconds. */
  accessExpiresAt?: number;
  /** When the roles were last read from a verified access token, epoch seconds. */
  rolesCheckedAt?: number;
  isAdmin?: boolean;
  idToken?: string;
}

/** Epoch seconds. */
const nowS = () => Math.floor(Date.now() / 1000);

/** Roles are recent enough to use without asking Keycloak. */
export function rolesFresh(token: KeycloakSessionFields, intervalS: number, now = nowS()): boolean {
  return typeof token.rolesCheckedAt === "number" && now < token.rolesCheckedAt + intervalS;
}

/**
 * The latest moment a session may still be used without a successful refresh (the outage grace).
 * A token without the fields (issued before roles were verified) has none.
 */
export function usableUntil(token: KeycloakSessionFields, intervalS: number): number {
  if (typeof token.rolesCheckedAt !== "number") return 0;
  return Math.max(token.accessExpiresAt ?? 0, token.rolesCheckedAt + intervalS) + OUTAGE_GRACE_S;
}

/** The token may be used for this request (fresh, or within the outage grace). */
export function sessionUsable(
  token: KeycloakSessionFields,
  intervalS: number,
  now = nowS(),
): boolean {
  return rolesFresh(token, intervalS, now) || now < usableUntil(token, intervalS);
}

/** What the sign-in (authorization code) or a refresh gave us, checked. */
export async function rolesFromTokens(
  tokens: { access_token?: string; refresh_token?: string; id_token?: string },
  config: RoleRefreshConfig,
): Promise<
  Required<Pick<KeycloakSessionFields, "accessExpiresAt" | "rolesCheckedAt" | "isAdmin">> &
    Pick<KeycloakSessionFields, "refreshToken" | "idToken">
> {
  if (!tokens.access_token) throw new AccessTokenRejected("no access token in Keycloak's answer");
  const verified = await verifyAccessToken(tokens.access_token, config);
  return {
    isAdmin: verified.realmRoles.includes(config.adminRole),
    accessExpiresAt: verified.exp,
    rolesCheckedAt: nowS(),
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
  };
}

export type RefreshOutcome =
  /** Roles still fresh: the token is unchanged. */
  | { kind: "fresh" }
  /** Keycloak answered: the token carries the roles it has now. */
  | { kind: "refreshed"; token: JWT }
  /** Keycloak could not be asked; the session lives on within the outage grace. */
  | { kind: "kept"; reason: string }
  /** Keycloak refused (user disabled, session ended, token revoked) or the grace is over. */
  | { kind: "ended"; reason: string };

// Concurrent requests of one browser carry the same refresh token: one grant call serves them all.
const inFlight = new Map<string, Promise<RefreshOutcome>>();

// After Keycloak failed to answer, requests stop asking it for a while instead of each waiting
// out the timeout (per issuer and process, epoch ms).
const OUTAGE_BACKOFF_MS = 30_000;
const keycloakDownUntil = new Map<string, number>();

/**
 * Re-read the session's roles from Keycloak with the refresh-token grant once `intervalS` has
 * passed since the last check. A refused grant (`invalid_grant`: user disabled or deleted,
 * Keycloak session ended, refresh token expired or revoked) ends the session; Keycloak being
 * unreachable keeps it until `usableUntil`.
 */
export async function refreshRoles(token: JWT, config: RoleRefreshConfig): Promise<RefreshOutcome> {
  if (rolesFresh(token, config.intervalS)) return { kind: "fresh" };
  const refreshToken = token.refreshToken;
  if (!refreshToken) return { kind: "ended", reason: "no refresh token in the session" };
  let pending = inFlight.get(refreshToken);
  if (!pending) {
    pending = grant(token, refreshToken, config).finally(() => inFlight.delete(refreshToken));
    inFlight.set(refreshToken, pending);
  }
  return pending;
}

async function grant(
  token: JWT,
  refreshToken: string,
  config: RoleRefreshConfig,
): Promise<RefreshOutcome> {
  const outage = (reason: string, backOff = true): RefreshOutcome => {
    if (backOff) keycloakDownUntil.set(config.issuer, Date.now() + OUTAGE_BACKOFF_MS);
    return nowS() < usableUntil(token, config.intervalS)
      ? { kind: "kept", reason }
      : { kind: "ended", reason: `${reason}; the outage grace is over` };
  };
  if (Date.now() < (keycloakDownUntil.get(config.issuer) ?? 0))
    return outage("Keycloak was unreachable moments ago", false);
  let response: Response;
  try {
    response = await fetch(`${config.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
        authorization: `Basic ${Buffer.from(
          `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`,
        ).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
      signal: AbortSignal.timeout(5_000),
      cache: "no-store",
    });
  } catch (error) {
    return outage(`Keycloak unreachable: ${error instanceof Error ? error.message : "error"}`);
  }
  const body = (await response.json().catch(() => ({}))) as {
    error?: string;
    access_token?: string;
    refresh_token?: string;
    id_token?: string;
  };
  if (response.status === 400 && body.error === "invalid_grant")
    return { kind: "ended", reason: "Keycloak refused the refresh (invalid_grant)" };
  if (!response.ok)
    return outage(`Keycloak answered ${response.status} ${body.error ?? ""}`.trimEnd());
  try {
    const fields = await rolesFromTokens(body, config);
    return { kind: "refreshed", token: { ...token, ...fields } };
  } catch (error) {
    if (error instanceof KeycloakUnavailable) return outage(error.message);
    return { kind: "ended", reason: (error as Error).message };
  }
}
