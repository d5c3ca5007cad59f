import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABEL_OWNER } from "@irc-now/k8s";
import { ACCOUNTS_POOL } from "~/server/db";
import type { Actor } from "~/server/domain/context";
import { createBouncer, listMyBouncers } from "~/server/domain/bouncers";
import { DomainError } from "~/server/domain/errors";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

// The web's own pool (10 connections, 2 s wait): a create that needed a second connection while
// holding its lock ran this pool dry and failed creates with "timeout exceeded when trying to
// connect".
let world: World;
let alice: Actor;
let bob: Actor;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"), { pool: ACCOUNTS_POOL });
  const a = await recordLogin(world.db, { subject: "kc-alice", username: "alice" });
  const b = await recordLogin(world.db, { subject: "kc-bob", username: "bob" });
  alice = { id: a.id, username: a.username, plan: "pro" };
  bob = { id: b.id, username: b.username, plan: "free" };
});
afterAll(async () => {
  await world?.stop();
});

const ownedBy = (actor: Actor) =>
  world.kube.objects
    .list("sojubouncers.irc.now", "irc-now")
    .items.filter((b) => b.metadata.labels?.[LABEL_OWNER] === actor.id);

describe("concurrent creates by one user", () => {
  it("40 at once end with exactly the quota's bouncers and only quota refusals; another user is served meanwhile", async () => {
    const quota = world.ctx.quotas.pro;
    const creates = Array.from({ length: 40 }, (_, i) =>
      createBouncer(world.ctx, alice, `alice-${i}`),
    );
    // Another user's read, started while all 40 are queued: it must be answered, not starved.
    const bobsList = listMyBouncers(world.ctx, bob);
    const [results, bobs] = await Promise.all([Promise.allSettled(creates), bobsList]);

    expect(bobs).toEqual([]);
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    const notQuota = failures.filter(
      (e) => !(e instanceof DomainError && e.kind === "PRECONDITION_FAILED"),
    );
    expect(notQuota.map((e) => String(e))).toEqual([]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(quota);
    expect(ownedBy(alice)).toHaveLength(quota);
    expect((failures[0] as DomainError).message).toMatch(/pro plan includes 3 bouncers/);
  });

  it("12 at once on the free plan: one bouncer, eleven quota refusals", async () => {
    const carol = await recordLogin(world.db, { subject: "kc-carol", username: "carol" });
    const actor: Actor = { id: carol.id, username: carol.username, plan: "free" };
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => createBouncer(world.ctx, actor, `carol-${i}`)),
    );
    const kinds = results.map((r) =>
      r.status === "fulfilled" ? "ok" : r.reason instanceof DomainError ? r.reason.kind : "error",
    );
    expect(kinds.filter((k) => k === "ok")).toHaveLength(1);
    expect(kinds.filter((k) => k === "PRECONDITION_FAILED")).toHaveLength(11);
    expect(ownedBy(actor)).toHaveLength(1);
  });

  it("gives up waiting for a stuck create elsewhere (lock_timeout) and works again once it ends", async () => {
    const dave = await recordLogin(world.db, { subject: "kc-dave", username: "dave" });
    const actor: Actor = { id: dave.id, username: dave.username, plan: "free" };
    // Another replica's create of this user, stuck while holding the lock.
    const other = await world.db.$client.connect();
    try {
      await other.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [
        `bouncer-create:${actor.id}`,
      ]);
      const stuck = await createBouncer(world.ctx, actor, "dave").then(
        () => null,
        (e: unknown) => e,
      );
      expect(stuck).toBeInstanceOf(DomainError);
      expect(stuck).toMatchObject({
        kind: "UNAVAILABLE",
        message: expect.stringMatching(/still in progress\. Please try again/),
      });
      expect(ownedBy(actor)).toEqual([]);
    } finally {
      await other.query("SELECT pg_advisory_unlock_all()");
      other.release();
    }
    expect((await createBouncer(world.ctx, actor, "dave")).name).toBe("dave");
  });
});
