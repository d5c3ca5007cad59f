import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";

export interface KeycloakClient {
  /** `https://kc.example/realms/irc-now` */
  issuer: string;
  clientId: string;
}

/** The token is not one our realm issued for us (bad signature, issuer, client, expiry…). */
export class AccessTokenRejected extends Error {
  override readonly name = "AccessTokenRejected";
}

/** The token could not be checked right now (the realm's keys are unreachable). */
export class KeycloakUnavailable extends Error {
  override readonly name = "KeycloakUnavailable";
}

// One key set per issuer and process: jose caches the keys (10 min) and refetches on an unknown
// `kid` (Keycloak's key rotation) at most every 30 s.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(issuer: string) {
  let keys = keySets.get(issuer);
  if (!keys) {
    // Keycloak's certs endpoint (the `jwks_uri` of its discovery document).
    keys = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`), {
      timeoutDuration: 5_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 600_000,
    });
    keySets.set(issuer, keys);
  }
  return keys;
}

/** jose errors that say "this token is bad", as opposed to "the keys could not be fetched". */
const rejections = [
  errors.JWSSignatureVerificationFailed,
  errors.JWSInvalid,
  errors.JWTInvalid,
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
];

export interface VerifiedAccessToken {
  realmRoles: string[];
  /** Expiry, epoch seconds. */
  exp: number;
}

/**
 * Verify a Keycloak access token against the realm's published keys and read its realm roles.
 * Checked: signature (RS/PS/ES algorithms only, so never `alg: none` or an HMAC made with a
 * public key), `iss` = our issuer, `exp`, `typ: Bearer`, and that it was issued to our client
 * (`azp`, or our client id in `aud`). Keycloak's default mapper writes `realm_access.roles` into
 * the access token only (facts/keycloak.md), so this token is where the admin role comes from.
 */
export async function verifyAccessToken(
  token: string,
  client: KeycloakClient,
): Promise<VerifiedAccessToken> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySetOf(client.issuer), {
      issuer: client.issuer,
      algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"],
      requiredClaims: ["exp", "sub"],
      clockTolerance: 5,
    }));
  } catch (error) {
    if (rejections.some((kind) => error instanceof kind))
      throw new AccessTokenRejected(`access token refused: ${(error as Error).message}`);
    throw new KeycloakUnavailable(
      `could not fetch the realm's keys: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload.azp !== client.clientId && !audience.includes(client.clientId))
    throw new AccessTokenRejected("access token refused: issued to another client");
  if (payload.typ !== undefined && payload.typ !== "Bearer")
    throw new AccessTokenRejected("access token refused: not an access token");
  const roles = (payload.realm_access as { roles?: unknown } | undefined)?.roles;
  return {
    realmRoles: Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [],
    exp: payload.exp!,
  };
}
