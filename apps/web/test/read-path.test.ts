import { sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { Actor } from "~/server/domain/context";
import { createBouncer, deleteBouncer, listMyBouncers } from "~/server/domain/bouncers";
import { forgetProjectionFreshness } from "~/server/domain/projection-reads";
import { recordLogin } from "~/server/domain/users";
import type { ObservedRequest } from "@irc-now/standins/kube";
import { startWorld, type World } from "./support/world";

const ns = "irc-now";
let world: World;
let alice: Actor;
let bob: Actor;
const kubeRequests: ObservedRequest[] = [];

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

/** What a worker replica does every 30 s while its watch is healthy. */
const heartbeat = (at = new Date()) =>
  world.db
    .insert(accounts.projectionHeartbeats)
    .values({ replica: "worker-0", syncedAt: at })
    .onConflictDoUpdate({ target: accounts.projectionHeartbeats.replica, set: { syncedAt: at } });

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  world.kube.onRequest((r) => kubeRequests.push(r));
  const a = await recordLogin(world.db, { subject: "kc-rp-alice", username: "alice" });
  const b = await recordLogin(world.db, { subject: "kc-rp-bob", username: "bob" });
  alice = { id: a.id, username: a.username, plan: "free" };
  bob = { id: b.id, username: b.username, plan: "free" };
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(async () => {
  forgetProjectionFreshness();
  for (const b of world.kube.objects.list("sojubouncers.irc.now", ns).items)
    world.kube.objects.delete("sojubouncers.irc.now", ns, b.metadata.name);
  await world.db.execute(sql`DELETE FROM bouncers`);
  await world.db.execute(sql`DELETE FROM projection_heartbeats`);
});

describe("bouncer.mine's read path", () => {
  it("reads the projection, not Kubernetes, while a worker keeps it fresh", async () => {
    await heartbeat();
    await createBouncer(world.ctx, alice, "alice");
    kubeRequests.length = 0;
    const [view] = await listMyBouncers(world.ctx, alice);
    // Read-your-writes: the create recorded it, before any worker watch saw it.
    expect(view).toMatchObject({ name: "alice", phase: "provisioning" });
    expect(kubeRequests).toEqual([]);
    expect(await listMyBouncers(world.ctx, bob)).toEqual([]);
  });

  it("asks Kubernetes when no worker has confirmed the projection recently", async () => {
    await createBouncer(world.ctx, alice, "alice");
    setReady("alice"); // the projection (no worker here) never hears of it
    await heartbeat();
    forgetProjectionFreshness();
    expect((await listMyBouncers(world.ctx, alice))[0]?.phase).toBe("provisioning");

    await heartbeat(new Date(Date.now() - 10 * 60_000)); // the workers went quiet
    forgetProjectionFreshness();
    kubeRequests.length = 0;
    expect((await listMyBouncers(world.ctx, alice))[0]?.phase).toBe("ready");
    expect(kubeRequests.some((r) => r.method === "GET" && r.url.includes("sojubouncers"))).toBe(
      true,
    );
  });

  it("shows a delete at once as deleting", async () => {
    await heartbeat();
    await createBouncer(world.ctx, alice, "alice");
    await deleteBouncer(world.ctx, alice, "alice", "alice");
    const views = await listMyBouncers(world.ctx, alice);
    // The stand-in deletes at once (no finalizer): the worker's watch removes the row; until then
    // the user sees it going, not a bouncer that is still there.
    expect(views.map((v) => [v.name, v.phase])).toEqual([["alice", "deleting"]]);
  });
});
