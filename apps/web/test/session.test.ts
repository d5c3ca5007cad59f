import { encode } from "next-auth/jwt";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { currentSession as CurrentSession } from "~/server/auth/session";

// currentSession() reads the session cookie itself (not through getServerSession): it must accept
// exactly what next-auth issued and nothing else.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SECRET = "session-test-secret-session-test-secret-0123";
const COOKIE = "next-auth.session-token";
const claims = {
  sub: "kc-alice",
  name: "Alice",
  email: "alice@example.test",
  userId: "3f0c7a52-0000-4000-8000-000000000001",
  username: "alice",
  isAdmin: false,
  idToken: "id.token.value",
};

let currentSession: typeof CurrentSession;

beforeAll(async () => {
  Object.assign(process.env, {
    DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
    AUTH_SECRET: SECRET,
    AUTH_URL: "http://127.0.0.1:3000",
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
  });
  ({ currentSession } = await import("~/server/auth/session"));
});
afterEach(() => jar.clear());

describe("currentSession", () => {
  it("returns the session of a valid next-auth cookie, without the ID token", async () => {
    jar.set(COOKIE, await encode({ token: claims, secret: SECRET, maxAge: 3600 }));
    const session = await currentSession();
    expect(session).toEqual({
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
});
