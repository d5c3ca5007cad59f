import { sql } from "drizzle-orm";
import { encode } from "next-auth/jwt";
import { accounts } from "@irc-now/db";
import type { ObservedRequest } from "@irc-now/standins/kube";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { endSessions } from "~/server/auth/session-cutoff";
import { accountsDb } from "~/server/db";
import { createBouncer } from "~/server/domain/bouncers";
import type { Actor } from "~/server/domain/context";
import { forgetProjectionFreshness } from "~/server/domain/projection-reads";
import { recordLogin } from "~/server/domain/users";
import type * as TrpcRoute from "../app/api/trpc/[trpc]/route";
import { startWorld, type World } from "./support/world";
import { TEST_STRIPE_ENV } from "./support/web-env";

// Issue 17: bouncer.mine reads the session's user row, the projection's heartbeat and the user's
// projected bouncers in one statement, checks the row before building anything (a sign-out
// refuses the very next request, which sees nothing), and shows only the user's own bouncers;
// the other protected procedures still read the user row once.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({
    getAll: () => [...jar].map(([name, value]) => ({ name, value })),
  }),
}));

const SITE = "http://127.0.0.1:3000";
const SECRET = "read-once-test-secret-read-once-test-secret";
const MINE = `${SITE}/api/trpc/bouncer.mine?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: null, meta: { values: ["undefined"], v: 1 } } }))}`;
let world: World;
let route: typeof TrpcRoute;
let queries = 0;
const kubeRequests: ObservedRequest[] = [];

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
  world.kube.onRequest((r) => kubeRequests.push(r));
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

type MineBody = [
  {
    result?: { data: { json: { bouncers: { name: string }[]; plan: string } } };
    error?: { json: { message: string; data: { code: string } } };
  },
];

const heartbeat = () =>
  world.db
    .insert(accounts.projectionHeartbeats)
    .values({ replica: "worker-0", syncedAt: new Date() })
    .onConflictDoUpdate({
      target: accounts.projectionHeartbeats.replica,
      set: { syncedAt: new Date() },
    });

describe("bouncer.mine through the tRPC route", () => {
  it("reads the user row and the projection in one statement, and is refused right after a sign-out", async () => {
    const { id } = await recordLogin(world.db, {
      subject: "kc-dora-once",
      username: "dora",
    });
    const { id: bobId } = await recordLogin(world.db, {
      subject: "kc-bob-once",
      username: "bob",
    });
    const dora: Actor = { id, username: "dora", plan: "free" };
    const bob: Actor = { id: bobId, username: "bob", plan: "free" };
    await createBouncer(world.ctx, dora, "dora-one");
    await createBouncer(world.ctx, bob, "bob-one");
    // A projection row of bob's whose stored CR names dora as its owner: ownership is the row's
    // owner_id (the session's user), so dora never sees it.
    await world.db.execute(sql`
      INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username, resource)
      SELECT namespace, 'bob-two', 'uid-bob-two', owner_id, soju_username,
             jsonb_set(jsonb_set(resource, '{metadata,name}', '"bob-two"'),
                       '{metadata,labels,irc.now/owner}', to_jsonb(${id}::text))
        FROM bouncers WHERE name = 'bob-one'`);
    await heartbeat();
    forgetProjectionFreshness();
    kubeRequests.length = 0;
    await signIn(id, "dora");

    queries = 0;
    const res = await route.GET(new Request(MINE));
    expect(res.status).toBe(200);
    const [body] = (await res.json()) as MineBody;
    expect(body.result?.data.json.bouncers.map((b) => b.name)).toEqual(["dora-one"]);
    expect(body.result?.data.json.plan).toBe("free");
    // The user row, the heartbeat and the projection: one statement, no Kubernetes call.
    expect(queries).toBe(1);
    expect(kubeRequests).toEqual([]);

    // bob sees his own and nothing of dora's (nor his row whose CR names dora: the label check).
    await signIn(bobId, "bob");
    const [bobs] = (await (await route.GET(new Request(MINE))).json()) as MineBody;
    expect(bobs.result?.data.json.bouncers.map((b) => b.name)).toEqual(["bob-one"]);

    await signIn(id, "dora");
    await endSessions(world.db, id);
    queries = 0;
    const refused = await route.GET(new Request(MINE));
    expect(refused.status).toBe(401);
    const text = await refused.text();
    expect(text).not.toContain("dora-one");
    const [error] = JSON.parse(text) as MineBody;
    expect(error.error?.json.message).toBe("Your session has ended. Please sign in again.");
    expect(queries).toBe(1);
  });

  it("refuses a session whose user is gone, and one with no cookie, with 401", async () => {
    const { id } = await recordLogin(world.db, {
      subject: "kc-gone-once",
      username: "gone",
    });
    await signIn(id, "gone");
    expect((await route.GET(new Request(MINE))).status).toBe(200);
    await world.db.execute(sql`DELETE FROM users WHERE id = ${id}`);
    expect((await route.GET(new Request(MINE))).status).toBe(401);
    jar.clear();
    queries = 0;
    expect((await route.GET(new Request(MINE))).status).toBe(401);
    expect(queries).toBe(0);
  });

  it("still reads the user row once for the other protected procedures, and refuses after a sign-out", async () => {
    const { id } = await recordLogin(world.db, {
      subject: "kc-erin-once",
      username: "erin",
    });
    await signIn(id, "erin");
    const byName = `${SITE}/api/trpc/bouncer.byName?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: { name: "nope" } } }))}`;
    queries = 0;
    const res = await route.GET(new Request(byName));
    expect(res.status).toBe(404);
    expect(queries).toBe(1);
    await endSessions(world.db, id);
    expect((await route.GET(new Request(byName))).status).toBe(401);
  });
});
