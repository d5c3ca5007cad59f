import { decode, encode, type JWT } from "next-auth/jwt";
import { unstable_doesMiddlewareMatch } from "next/experimental/testing/server";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  accountPortalClient,
  startKeycloakStandin,
  type KeycloakStandin,
} from "@irc-now/standins/keycloak";
import { recordLogin } from "~/server/domain/users";
import type * as TrpcRoute from "../app/api/trpc/[trpc]/route";
import { config as proxyConfig } from "../proxy";
import { keycloakAdmin, keycloakSignIn } from "./support/keycloak-login";
import { startWorld, type World } from "./support/world";
import { TEST_STRIPE_ENV } from "./support/web-env";

// proxy.ts does not run for /api/trpc: the tRPC route refreshes the session's roles itself, as
// the proxy does for pages. The route as Next runs it (its exported handler, over
// Request/Response), with the real Keycloak protocol (stand-in) and a real DB; only Next's
// cookie store is replaced (there is no request scope outside Next).
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SITE = "http://127.0.0.1:3000";
const SECRET = "trpc-role-refresh-secret-trpc-role-refresh-0123";
const COOKIE = "next-auth.session-token";
let world: World;
let kc: KeycloakStandin;
let route: typeof TrpcRoute;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  const client = accountPortalClient(SITE);
  kc = await startKeycloakStandin({
    log: () => undefined,
    clients: [client],
    users: [
      { username: "boss", password: "pw", realmRoles: ["irc-now-admin"] },
      { username: "gone", password: "pw" },
      { username: "kept", password: "pw", realmRoles: ["irc-now-admin"] },
    ],
  });
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    KUBECONFIG: world.kubeconfigPath,
    K8S_NAMESPACE: "irc-now",
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
  route = await import("../app/api/trpc/[trpc]/route");
});
afterAll(async () => {
  await kc?.stop();
  await world?.stop();
});
afterEach(() => jar.clear());

/** A browser's session cookie as the jwt callback writes it at sign-in, `ageS` seconds ago. */
async function signIn(username: string, ageS: number): Promise<string> {
  const { id } = await recordLogin(world.db, { subject: `kc-${username}-refresh`, username });
  const tokens = await keycloakSignIn(kc, username, "pw");
  const now = Math.floor(Date.now() / 1000);
  const token: JWT = {
    userId: id,
    username,
    isAdmin: username !== "gone",
    refreshToken: tokens.refresh_token,
    idToken: tokens.id_token,
    rolesCheckedAt: now - ageS,
    accessExpiresAt: now - ageS + 300,
    signedInAt: Date.now() - ageS * 1000,
  };
  const value = await encode({ token, secret: SECRET });
  jar.set("theme", "dark");
  jar.set(COOKIE, value);
  return value;
}

const get = (path: string) =>
  route.GET(new Request(`${SITE}/api/trpc/${path}?batch=1&input=${encodeURIComponent("{}")}`));
const sessionSetCookie = (res: Response) =>
  res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));

describe("the tRPC route refreshes the session's roles (proxy.ts skips it)", () => {
  it("is not matched by proxy.ts, which still runs for the pages", () => {
    const matches = (path: string) =>
      unstable_doesMiddlewareMatch({ config: proxyConfig, url: `${SITE}${path}` });
    expect(matches("/api/trpc/bouncer.mine")).toBe(false);
    expect(matches("/dashboard")).toBe(true);
    expect(matches("/api/bench/static")).toBe(true);
  });

  it("leaves a session with fresh roles alone", async () => {
    await signIn("kept", 10);
    const res = await get("adminOutbox.stuck");
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("re-reads the roles once due: a removed admin role is refused on this very call, and the browser gets the new cookie", async () => {
    await signIn("boss", 301);
    await (await keycloakAdmin(kc)).removeRealmRole("boss", "irc-now-admin");
    const res = await get("adminOutbox.stuck");
    expect(res.status).toBe(403);
    const set = sessionSetCookie(res)!;
    expect(set).toMatch(/; HttpOnly/i);
    const token = await decode({
      token: set.slice(COOKIE.length + 1).split(";")[0]!,
      secret: SECRET,
    });
    expect(token?.isAdmin).toBe(false);
    expect(token?.rolesCheckedAt).toBeGreaterThan(Math.floor(Date.now() / 1000) - 5);
    // Only the session cookie changes.
    expect(res.headers.getSetCookie().some((c) => c.startsWith("theme="))).toBe(false);
  });

  it("ends the session of a user Keycloak refuses (disabled): refused now, cookie removed", async () => {
    await signIn("gone", 301);
    await (await keycloakAdmin(kc)).disable("gone");
    const res = await get("bouncer.mine");
    expect(res.status).toBe(401);
    expect(sessionSetCookie(res)).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
  });
});
