import { SignJWT, UnsecuredJWT, decodeJwt, importJWK, type JWK } from "jose";
import { generateKeyPairSync } from "node:crypto";
import type { JWT } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountPortalClient,
  generateSigningJwk,
  startKeycloakStandin,
  type KeycloakStandin,
} from "@irc-now/standins/keycloak";
import { AccessTokenRejected, verifyAccessToken } from "~/server/auth/keycloak-token";
import {
  OUTAGE_GRACE_S,
  refreshRoles,
  rolesFromTokens,
  sessionUsable,
  type RoleRefreshConfig,
} from "~/server/auth/role-refresh";
import { keycloakAdmin, keycloakSignIn } from "./support/keycloak-login";

// The admin role comes from Keycloak's access token: verified against the realm's published
// keys (a real oidc-provider realm, the stand-in), and re-read with the refresh-token grant.

let kc: KeycloakStandin;
let realmKey: JWK;
let config: RoleRefreshConfig;
const nowS = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  realmKey = generateSigningJwk() as JWK;
  const client = accountPortalClient("http://127.0.0.1:3000");
  kc = await startKeycloakStandin({
    log: () => undefined,
    signingJwk: realmKey as never,
    clients: [client],
    users: [
      { username: "root", password: "pw", realmRoles: ["irc-now-admin"] },
      { username: "demoted", password: "pw", realmRoles: ["irc-now-admin"] },
      { username: "leaver", password: "pw", realmRoles: ["irc-now-admin"] },
      { username: "plain", password: "pw" },
    ],
  });
  config = {
    issuer: kc.issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    adminRole: "irc-now-admin",
    intervalS: 300,
  };
});
afterAll(async () => {
  await kc?.stop();
});

/** Claims of a Keycloak access token for our client, with the admin role. */
const adminClaims = () => ({
  typ: "Bearer",
  azp: "account-portal",
  aud: "account",
  sub: kc.getUser("plain")!.id,
  realm_access: { roles: ["irc-now-admin"] },
});

async function signWith(jwk: JWK, claims: Record<string, unknown>, issuer = kc.issuer) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: jwk.kid!, typ: "JWT" })
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(await importJWK(jwk, "RS256"));
}

describe("verifyAccessToken", () => {
  it("reads the realm roles of a genuine access token", async () => {
    const tokens = await keycloakSignIn(kc, "root", "pw");
    const verified = await verifyAccessToken(tokens.access_token, config);
    expect(verified.realmRoles).toContain("irc-now-admin");
    expect(verified.exp).toBe(decodeJwt(tokens.access_token).exp);
  });

  it("refuses a forged unsigned token (alg none) with the admin role", async () => {
    const forged = new UnsecuredJWT(adminClaims())
      .setIssuer(kc.issuer)
      .setIssuedAt()
      .setExpirationTime("5m")
      .encode();
    await expect(verifyAccessToken(forged, config)).rejects.toBeInstanceOf(AccessTokenRejected);
    await expect(rolesFromTokens({ access_token: forged }, config)).rejects.toBeInstanceOf(
      AccessTokenRejected,
    );
  });

  it("refuses a token signed by another key, even under the realm key's kid", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = { ...privateKey.export({ format: "jwk" }), kid: realmKey.kid } as JWK;
    const forged = await signWith(other, adminClaims());
    await expect(verifyAccessToken(forged, config)).rejects.toThrow(
      /signature verification failed/,
    );
  });

  it("refuses a token (Keycloak-signed) for another issuer, another client, expired, or an ID token", async () => {
    const cases = [
      await signWith(realmKey, adminClaims(), "https://kc.evil.example/realms/irc-now"),
      await signWith(realmKey, { ...adminClaims(), azp: "someone-else" }),
      await signWith(realmKey, { ...adminClaims(), typ: "ID" }),
      await new SignJWT(adminClaims())
        .setProtectedHeader({ alg: "RS256", kid: realmKey.kid! })
        .setIssuer(kc.issuer)
        .setIssuedAt(nowS() - 600)
        .setExpirationTime(nowS() - 300)
        .sign(await importJWK(realmKey, "RS256")),
    ];
    for (const token of cases)
      await expect(verifyAccessToken(token, config)).rejects.toBeInstanceOf(AccessTokenRejected);
    // The same claims, correctly issued, pass: the cases above fail for their one difference.
    expect(
      (await verifyAccessToken(await signWith(realmKey, adminClaims()), config)).realmRoles,
    ).toEqual(["irc-now-admin"]);
  });
});

/** The session token next-auth's jwt callback builds at sign-in. */
async function signedInToken(username: string): Promise<JWT> {
  const tokens = await keycloakSignIn(kc, username, "pw");
  return {
    userId: "u1",
    username,
    signedInAt: Date.now(),
    ...(await rolesFromTokens(tokens, config)),
  };
}

/** The same token, as if its roles had been checked `ageS` seconds ago. */
const aged = (token: JWT, ageS: number): JWT => ({
  ...token,
  rolesCheckedAt: token.rolesCheckedAt! - ageS,
  accessExpiresAt: token.accessExpiresAt! - ageS,
});

describe("refreshRoles", () => {
  it("leaves fresh roles alone (no call to Keycloak)", async () => {
    const token = await signedInToken("root");
    expect(token.isAdmin).toBe(true);
    expect(await refreshRoles(token, { ...config, issuer: "http://127.0.0.1:1/realms/x" })).toEqual(
      { kind: "fresh" },
    );
  });

  it("drops the admin role removed in Keycloak at the next refresh", async () => {
    const token = await signedInToken("demoted");
    await (await keycloakAdmin(kc)).removeRealmRole("demoted", "irc-now-admin");
    const outcome = await refreshRoles(aged(token, 301), config);
    expect(outcome.kind).toBe("refreshed");
    if (outcome.kind !== "refreshed") return;
    expect(outcome.token.isAdmin).toBe(false);
    expect(outcome.token.rolesCheckedAt).toBeGreaterThanOrEqual(nowS() - 1);
    expect(outcome.token.signedInAt).toBe(token.signedInAt);
  });

  it("ends the session of a user disabled in Keycloak", async () => {
    const token = await signedInToken("leaver");
    await (await keycloakAdmin(kc)).disable("leaver");
    expect(await refreshRoles(aged(token, 301), config)).toEqual({
      kind: "ended",
      reason: "Keycloak refused the refresh (invalid_grant)",
    });
  });

  it("ends a session without a refresh token (a cookie from before roles were verified)", async () => {
    const old: JWT = { userId: "u1", isAdmin: true };
    expect((await refreshRoles(old, config)).kind).toBe("ended");
    expect(sessionUsable(old, 300)).toBe(false);
  });

  it("keeps the session while Keycloak is unreachable, until the access token's expiry plus the grace", async () => {
    const token = await signedInToken("plain");
    const down = { ...config, issuer: "http://127.0.0.1:1/realms/irc-now" };
    const soon = aged(token, 301);
    expect((await refreshRoles(soon, down)).kind).toBe("kept");
    expect(sessionUsable(soon, 300)).toBe(true);
    // Past the access token's expiry plus the grace: ended (and unusable to currentSession).
    const late = aged(token, 300 + OUTAGE_GRACE_S + 60);
    expect((await refreshRoles(late, down)).kind).toBe("ended");
    expect(sessionUsable(late, 300)).toBe(false);
  });
});
