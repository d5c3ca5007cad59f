import { encode } from "next-auth/jwt";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { endSessions } from "~/server/auth/session-cutoff";
import type { currentSession as CurrentSession } from "~/server/auth/session";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";
import { TEST_STRIPE_ENV } from "./support/web-env";

// currentSession() reads the session cookie itself (not through getServerSession): it must accept
// exactly what next-auth issued and nothing else.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SECRET = "session-test-secret-session-test-secret-0123";
const COOKIE = "next-auth.session-token";
const nowS = () => Math.floor(Date.now() / 1000);
let claims: {
  sub: string;
  name: string;
  email: string;
  userId: string;
  username: string;
  isAdmin: boolean;
  idToken: string;
  refreshToken: string;
  rolesCheckedAt: number;
  accessExpiresAt: number;
  signedInAt: number;
};

let currentSession: typeof CurrentSession;
let world: World;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  const user = await recordLogin(world.db, { subject: "kc-alice-session", username: "alice" });
  claims = {
    sub: "kc-alice",
    name: "Alice",
    email: "alice@example.test",
    userId: user.id,
    username: "alice",
    isAdmin: false,
    idToken: "id.token.value",
    refreshToken: "refresh.token.value",
    rolesCheckedAt: nowS(),
    accessExpiresAt: nowS() + 300,
    signedInAt: Date.now() - 1000,
  };
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    AUTH_SECRET: SECRET,
    AUTH_URL: "http://127.0.0.1:3000",
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "admin-client-secret",
    ...TEST_STRIPE_ENV,
  });
  ({ currentSession } = await import("~/server/auth/session"));
});
afterEach(() => jar.clear());
afterAll(async () => {
  await world?.stop();
});

describe("currentSession", () => {
  it("returns the session of a valid next-auth cookie, without the ID or refresh token", async () => {
    jar.set(COOKIE, await encode({ token: claims, secret: SECRET, maxAge: 3600 }));
    const session = await currentSession();
    expect(session).toEqual({
      signedInAt: claims.signedInAt,
      user: {
        id: claims.userId,
        username: "alice",
        name: "Alice",
        email: "alice@example.test",
        isAdmin: false,
      },
      expires: expect.any(String),
    });
    expect(new Date(session!.expires).getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(session)).not.toContain("id.token.value");
    expect(JSON.stringify(session)).not.toContain("refresh.token.value");
  });

  it("carries the admin flag", async () => {
    jar.set(COOKIE, await encode({ token: { ...claims, isAdmin: true }, secret: SECRET }));
    expect((await currentSession())?.user.isAdmin).toBe(true);
  });

  it("reads a session split over chunked cookies", async () => {
    const token = await encode({ token: claims, secret: SECRET });
    const half = Math.floor(token.length / 2);
    jar.set(`${COOKIE}.1`, token.slice(half));
    jar.set(`${COOKIE}.0`, token.slice(0, half));
    expect((await currentSession())?.user.id).toBe(claims.userId);
  });

  it("is null without a cookie, or for one signed with another secret, expired, or without a user id", async () => {
    expect(await currentSession()).toBeNull();
    jar.set(
      COOKIE,
      await encode({ token: claims, secret: "another-secret-another-secret-another-secret" }),
    );
    expect(await currentSession()).toBeNull();
    jar.set(COOKIE, await encode({ token: claims, secret: SECRET, maxAge: -60 }));
    expect(await currentSession()).toBeNull();
    jar.set(COOKIE, await encode({ token: { ...claims, userId: undefined }, secret: SECRET }));
    expect(await currentSession()).toBeNull();
    jar.set(COOKIE, "not-a-jwt");
    expect(await currentSession()).toBeNull();
  });

  it("ignores the cookie name an https deployment would use", async () => {
    jar.set(`__Secure-${COOKIE}`, await encode({ token: claims, secret: SECRET }));
    expect(await currentSession()).toBeNull();
  });

  it("is null once the roles are older than the refresh interval plus the outage grace", async () => {
    const stale = { ...claims, rolesCheckedAt: nowS() - 3600, accessExpiresAt: nowS() - 3300 };
    jar.set(COOKIE, await encode({ token: stale, secret: SECRET }));
    expect(await currentSession()).toBeNull();
    // Within the grace (Keycloak briefly unreachable, the proxy kept the session): still valid.
    const kept = { ...claims, rolesCheckedAt: nowS() - 400, accessExpiresAt: nowS() - 100 };
    jar.set(COOKIE, await encode({ token: kept, secret: SECRET }));
    expect((await currentSession())?.user.id).toBe(claims.userId);
  });

  it("is null for a cookie signed in before the user's last sign-out, not for a later sign-in", async () => {
    const user = await recordLogin(world.db, { subject: "kc-bob-session", username: "bob" });
    const before = { ...claims, userId: user.id, username: "bob", signedInAt: Date.now() - 5000 };
    jar.set(COOKIE, await encode({ token: before, secret: SECRET }));
    expect((await currentSession())?.user.id).toBe(user.id);

    await endSessions(world.db, user.id);
    expect(await currentSession()).toBeNull();

    const after = { ...before, signedInAt: Date.now() + 1 };
    jar.set(COOKIE, await encode({ token: after, secret: SECRET }));
    expect((await currentSession())?.user.id).toBe(user.id);
  });

  it("is null for a user who no longer exists", async () => {
    const gone = { ...claims, userId: "3f0c7a52-0000-4000-8000-00000000dead" };
    jar.set(COOKIE, await encode({ token: gone, secret: SECRET }));
    expect(await currentSession()).toBeNull();
  });
});
