import { encode } from "next-auth/jwt";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { endSessions } from "~/server/auth/session-cutoff";
import { accountsDb } from "~/server/db";
import { recordLogin } from "~/server/domain/users";
import type * as TrpcRoute from "../app/api/trpc/[trpc]/route";
import { startWorld, type World } from "./support/world";
import { TEST_STRIPE_ENV } from "./support/web-env";

// Issue 17: a signed-in tRPC request reads the user row once — the session check's read is the
// one protectedProcedure checks — and a sign-out still refuses the very next request.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SITE = "http://127.0.0.1:3000";
const SECRET = "read-once-test-secret-read-once-test-secret";
const MINE = `${SITE}/api/trpc/bouncer.mine?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: null, meta: { values: ["undefined"], v: 1 } } }))}`;
let world: World;
let route: typeof TrpcRoute;
let queries = 0;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    KUBECONFIG: world.kubeconfigPath,
    K8S_NAMESPACE: "irc-now",
    AUTH_SECRET: SECRET,
    AUTH_URL: SITE,
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "admin-client-secret",
    ...TEST_STRIPE_ENV,
  });
  route = await import("../app/api/trpc/[trpc]/route");
  // Count what the web's own pool sends to PostgreSQL (pg's Pool.query).
  const pool = accountsDb().$client;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    queries++;
    return query(...args);
  };
});
afterAll(async () => {
  await accountsDb().$client.end();
  await world?.stop();
});
afterEach(() => jar.clear());

async function signIn(userId: string, username: string): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  jar.set(
    "next-auth.session-token",
    await encode({
      secret: SECRET,
      token: {
        userId,
        username,
        isAdmin: false,
        refreshToken: "r",
        rolesCheckedAt: now,
        accessExpiresAt: now + 300,
        signedInAt: Date.now() - 1000,
      },
    }),
  );
}

describe("a signed-in tRPC request", () => {
  it("reads the user row once, and is refused right after a sign-out", async () => {
    const { id } = await recordLogin(world.db, { subject: "kc-dora-once", username: "dora" });
    await signIn(id, "dora");
    // The first request also checks the projection's freshness (then cached for 5 s).
    expect((await route.GET(new Request(MINE))).status).toBe(200);

    queries = 0;
    const res = await route.GET(new Request(MINE));
    expect(res.status).toBe(200);
    const [body] = (await res.json()) as [{ result: { data: { json: { bouncers: unknown[] } } } }];
    expect(body.result.data.json.bouncers).toEqual([]);
    // The user row; no bouncers, so no setup records to read.
    expect(queries).toBe(1);

    await endSessions(world.db, id);
    expect((await route.GET(new Request(MINE))).status).toBe(401);
  });
});
