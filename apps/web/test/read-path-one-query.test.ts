import { sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { projectedResource, type SojuBouncer } from "@irc-now/k8s";
import type { ObservedRequest } from "@irc-now/standins/kube";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createBouncer, listMyBouncers, listMyBouncersFromRead } from "~/server/domain/bouncers";
import type { Actor } from "~/server/domain/context";
import { forgetProjectionFreshness, userWithProjection } from "~/server/domain/projection-reads";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

// Issue 17: on the projection path, the session's user row, the projection's heartbeat, the
// owner's bouncers, their setup records and their suspensions come from one query, and the views are exactly those the Kubernetes path builds
// from the same objects (phases, problems, upstream states, suspensions, namesakes of another uid).
const ns = "irc-now";
let world: World;
let alice: Actor;
const kubeRequests: ObservedRequest[] = [];
let queries = 0;

const heartbeat = (at: Date) =>
  world.db
    .insert(accounts.projectionHeartbeats)
    .values({ replica: "worker-0", syncedAt: at })
    .onConflictDoUpdate({ target: accounts.projectionHeartbeats.replica, set: { syncedAt: at } });

const cr = (name: string) =>
  world.kube.objects.get("sojubouncers.irc.now", ns, name) as unknown as SojuBouncer;

function setReady(name: string) {
  world.kube.objects.patch(
    "sojubouncers.irc.now",
    ns,
    name,
    {
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Running",
            message: "",
            lastTransitionTime: new Date().toISOString(),
          },
        ],
      },
    },
    { subresource: "status" },
  );
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  world.kube.onRequest((r) => kubeRequests.push(r));
  // Count what reaches PostgreSQL through the domain's pool (pg's own Pool.query).
  const pool = world.db.$client;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    queries++;
    return query(...args);
  };

  const a = await recordLogin(world.db, { subject: "kc-oneq-alice", username: "alice" });
  await world.db.execute(sql`UPDATE users SET plan = 'pro' WHERE id = ${a.id}`);
  alice = { id: a.id, username: a.username, plan: "pro" };
  for (const name of ["a-auth", "b-failed", "c-new", "d-suspended"])
    await createBouncer({ ...world.ctx, quotas: { free: 1, pro: 4 } }, alice, name);
  for (const name of ["a-auth", "b-failed", "d-suspended"]) setReady(name);
  world.kube.objects.patch("sojubouncers.irc.now", ns, "a-auth", {
    metadata: { annotations: { "irc.now/upstream-configured": "true" } },
  });
  const uid = (name: string) => cr(name).metadata.uid!;
  await world.db.execute(sql`
    INSERT INTO bouncer_setup_attempts (namespace, bouncer, bouncer_uid, attempt_no, step_reached, outcome, error, finished_at, duration_ms)
    VALUES (${ns}, 'a-auth', ${uid("a-auth")}, 1, 'done', 'succeeded', NULL, now(), 900),
           (${ns}, 'b-failed', ${uid("b-failed")}, 1, 'done', 'succeeded', NULL, now(), 900),
           (${ns}, 'b-failed', ${uid("b-failed")}, 2, 'ensure_ergo_account', 'failed', 'ergo did not answer', now(), 1200),
           (${ns}, 'c-new', 'uid-of-an-earlier-namesake', 5, 'ensure_ergo_account', 'needs_admin', 'taken', now(), 10)`);
  await world.db.execute(sql`
    INSERT INTO bouncer_upstream_states (namespace, bouncer, bouncer_uid, state, account)
    VALUES (${ns}, 'a-auth', ${uid("a-auth")}, 'authenticated', 'alice'),
           (${ns}, 'c-new', 'uid-of-an-earlier-namesake', 'unauthenticated', NULL)`);
  // What the worker's watch writes: the projection holds the CRs as Kubernetes has them now.
  for (const item of world.kube.objects.list("sojubouncers.irc.now", ns).items) {
    const b = item as unknown as SojuBouncer;
    await world.db.execute(sql`
      UPDATE bouncers SET resource = ${JSON.stringify(projectedResource(b))}::jsonb,
             resource_version = ${b.metadata.resourceVersion ?? null}
       WHERE namespace = ${ns} AND name = ${b.metadata.name}`);
  }
  await world.db.execute(sql`
    UPDATE bouncers SET suspended_at = now() - interval '1 hour', suspended_reason = 'over_quota'
     WHERE name = 'd-suspended'`);
  // A suspension recorded on an earlier bouncer of the same name says nothing about this one.
  await world.db.execute(sql`
    UPDATE bouncers SET suspended_at = now(), suspended_reason = 'over_quota', uid = 'uid-of-an-earlier-namesake'
     WHERE name = 'c-new'`);
});
afterAll(async () => {
  await world?.stop();
});

describe("bouncer.mine on the projection path", () => {
  it("reads bouncers, setup records and suspensions in one query, and shows what Kubernetes' path shows", async () => {
    await heartbeat(new Date(Date.now() - 10 * 60_000)); // no worker: Kubernetes
    forgetProjectionFreshness();
    const fromKube = await listMyBouncers(world.ctx, alice);

    await heartbeat(new Date());
    forgetProjectionFreshness(); // nothing cached: the heartbeat comes with the same statement
    kubeRequests.length = 0;
    queries = 0;
    const read = await userWithProjection(world.db, ns, alice.id);
    expect(read.user?.id).toBe(alice.id);
    expect(read.user?.plan).toBe("pro");
    const fromProjection = await listMyBouncersFromRead(world.ctx, alice, read);
    expect(queries).toBe(1);
    expect(kubeRequests).toEqual([]);

    expect(fromProjection).toEqual(fromKube);
    expect(
      fromProjection.map((v) => [
        v.name,
        v.phase,
        v.lastAttempt?.attemptNo ?? null,
        v.upstream?.state ?? null,
        v.suspension !== null,
        v.problem !== null,
      ]),
    ).toEqual([
      ["a-auth", "authenticated", 1, "authenticated", false, false],
      ["b-failed", "ready", 2, null, false, true],
      // The namesake's attempt, upstream state and suspension are not this bouncer's.
      ["c-new", "provisioning", null, null, false, false],
      ["d-suspended", "ready", null, null, true, false],
    ]);
  });

  it("falls back to Kubernetes when the heartbeat read with the user row is stale, and reads no user that is gone", async () => {
    await heartbeat(new Date(Date.now() - 10 * 60_000));
    const stale = await userWithProjection(world.db, ns, alice.id);
    expect(stale.user?.id).toBe(alice.id);
    kubeRequests.length = 0;
    const views = await listMyBouncersFromRead(world.ctx, alice, stale);
    expect(views.map((v) => v.name)).toEqual(["a-auth", "b-failed", "c-new", "d-suspended"]);
    expect(kubeRequests.length).toBe(1);

    const nobody = await userWithProjection(world.db, ns, "00000000-0000-4000-8000-000000000000");
    expect(nobody).toEqual({ user: null, syncedAt: null, projected: null });
  });
});
