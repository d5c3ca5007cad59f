import { decode, encode, type JWT } from "next-auth/jwt";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accountPortalClient,
  startKeycloakStandin,
  type KeycloakStandin,
} from "@irc-now/standins/keycloak";
import type { proxy as Proxy } from "../proxy";
import { keycloakAdmin, keycloakSignIn } from "./support/keycloak-login";
import { TEST_STRIPE_ENV } from "./support/web-env";

// proxy.ts as Next calls it: a request in, a response whose headers tell Next what to forward
// (`x-middleware-request-*`) and what the browser gets. Served over https here.

const SITE = "https://portal.example";
const SECRET = "proxy-test-secret-proxy-test-secret-0123456";
const COOKIE = "__Secure-next-auth.session-token";
let kc: KeycloakStandin;
let proxy: typeof Proxy;

beforeAll(async () => {
  const client = accountPortalClient(SITE);
  kc = await startKeycloakStandin({
    log: () => undefined,
    clients: [client],
    users: [
      { username: "boss", password: "pw", realmRoles: ["irc-now-admin"] },
      { username: "gone", password: "pw" },
    ],
  });
  Object.assign(process.env, {
    DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    AUTH_SECRET: SECRET,
    AUTH_URL: SITE,
    KEYCLOAK_ISSUER: kc.issuer,
    KEYCLOAK_CLIENT_ID: client.clientId,
    KEYCLOAK_CLIENT_SECRET: client.clientSecret,
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "admin-client-secret",
    ...TEST_STRIPE_ENV,
    AUTH_ROLE_REFRESH_S: "300",
  });
  ({ proxy } = await import("../proxy"));
});
afterAll(async () => {
  await kc?.stop();
});

/** A session cookie as the jwt callback writes it at sign-in, `ageS` seconds ago. */
async function sessionFor(username: string, ageS: number): Promise<string> {
  const tokens = await keycloakSignIn(kc, username, "pw");
  const now = Math.floor(Date.now() / 1000);
  const token: JWT = {
    userId: "3f0c7a52-0000-4000-8000-000000000001",
    username,
    isAdmin: username === "boss",
    refreshToken: tokens.refresh_token,
    idToken: tokens.id_token,
    rolesCheckedAt: now - ageS,
    accessExpiresAt: now - ageS + 300,
    signedInAt: Date.now() - ageS * 1000,
  };
  return encode({ token, secret: SECRET });
}

const request = (path: string, cookie?: string) =>
  new NextRequest(`${SITE}${path}`, {
    headers: cookie ? { cookie: `theme=dark; ${COOKIE}=${cookie}` } : {},
  });

describe("proxy: security headers", () => {
  it("sends a fresh nonce per request in the CSP, to the browser and to Next's renderer; HSTS over https", async () => {
    const a = await proxy(request("/"));
    const b = await proxy(request("/"));
    const csp = a.headers.get("content-security-policy")!;
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
    expect(a.headers.get("x-middleware-request-content-security-policy")).toBe(csp);
    expect(b.headers.get("content-security-policy")).not.toBe(csp);
    expect(a.headers.get("strict-transport-security")).toBe("max-age=63072000; includeSubDomains");
  });
});

describe("proxy: the session's role refresh", () => {
  it("leaves a session with fresh roles alone", async () => {
    const cookie = await sessionFor("boss", 10);
    const res = await proxy(request("/dashboard", cookie));
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(res.headers.get("x-middleware-request-cookie")).toBe(`theme=dark; ${COOKIE}=${cookie}`);
  });

  it("re-reads the roles once due: a removed admin role is gone from the cookie this request and the browser get", async () => {
    const cookie = await sessionFor("boss", 301);
    await (await keycloakAdmin(kc)).removeRealmRole("boss", "irc-now-admin");
    const res = await proxy(request("/admin", cookie));
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(set).toMatch(/; Secure/i);
    expect(set).toMatch(/; HttpOnly/i);
    const value = set.slice(COOKIE.length + 1).split(";")[0]!;
    const token = await decode({ token: value, secret: SECRET });
    expect(token?.isAdmin).toBe(false);
    expect(token?.rolesCheckedAt).toBeGreaterThan(Math.floor(Date.now() / 1000) - 5);
    // The page rendering this very request reads the new cookie, and the other cookies stay.
    const forwarded = res.headers.get("x-middleware-request-cookie")!;
    expect(forwarded).toContain(`${COOKIE}=${value}`);
    expect(forwarded).toContain("theme=dark");
  });

  it("ends the session of a user Keycloak refuses (disabled): cookie removed from request and browser", async () => {
    const cookie = await sessionFor("gone", 301);
    await (await keycloakAdmin(kc)).disable("gone");
    const res = await proxy(request("/dashboard", cookie));
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(set).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    expect(res.headers.get("x-middleware-request-cookie")).toBe("theme=dark");
  });
});
