import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import type { Controller } from "../src/bouncers/controller";
import { LeaderElector } from "../src/leader/lease";
import { createLogger } from "../src/logger";
import { wire } from "../src/wiring";
import { quickController } from "./support/controller";
import { NS, startHarness, until, type Harness } from "./support/harness";

/**
 * A rolling deploy during a burst of setups (issue 10 acceptance): replicas come and go while
 * 50 bouncers are set up; every bouncer ends authenticated and no bouncer's setup ever ran on
 * two replicas at once (the attempts' own timeline, written by each replica, proves it).
 */
let h: Harness;
const replicas: { id: string; stop: () => Promise<void>; elector: LeaderElector }[] = [];

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
});
afterAll(async () => {
  await Promise.allSettled(replicas.map((r) => r.stop()));
  await h?.stop();
});

function startReplica(id: string) {
  const w = wire(h.config, createLogger("silent", id), { identity: id });
  w.deps.settings = h.w.deps.settings;
  let controller: Controller | undefined;
  const elector = new LeaderElector({
    coordination: w.kube.coordination,
    namespace: NS,
    name: "rolling-lease",
    identity: id,
    leaseDurationSeconds: 2,
    renewDeadlineMs: 1_200,
    retryPeriodMs: 200,
    onStartedLeading: () => {
      controller = quickController(w);
      controller.start();
    },
    onStoppedLeading: async () => {
      await controller?.stop();
      controller = undefined;
    },
    log: createLogger("silent", id),
  });
  elector.start();
  const replica = {
    id,
    elector,
    async stop() {
      await elector.stop(); // drains in-flight setups, then releases the lease
      await w.close();
    },
  };
  replicas.push(replica);
  return replica;
}

describe("rolling restart of two replicas during 50 setups", () => {
  it("every bouncer ends authenticated; no setup ever ran twice at once", async () => {
    const names = Array.from({ length: 50 }, (_, i) => `roll-${i}`);
    const live = [startReplica("worker-a"), startReplica("worker-b")];
    for (const name of names) await h.createBouncer(name);
    const annotated = () =>
      names.filter((n) => h.annotations(n)[ANNOTATION_UPSTREAM_CONFIGURED] === "true").length;
    const leader = async () =>
      until(() => live.find((r) => r.elector.isLeader), "a leader", 20_000);

    // Roll: stop the leader, start a replacement; twice, mid-burst.
    for (const [i, next] of [
      [10, "worker-c"],
      [25, "worker-d"],
    ] as const) {
      await until(() => annotated() >= i, `${i} bouncers set up`, 180_000);
      const old = await leader();
      live.splice(live.indexOf(old), 1);
      await old.stop();
      live.push(startReplica(next));
    }
    await until(() => annotated() === names.length, "every bouncer annotated", 240_000);

    const s = accounts.bouncerUpstreamStates;
    await until(
      async () =>
        (
          await h.w.db
            .select()
            .from(s)
            .where(and(eq(s.state, "authenticated"), inArray(s.bouncer, names)))
        ).length === names.length,
      "every bouncer authenticated",
      120_000,
    );
    const a = accounts.bouncerSetupAttempts;
    await until(
      async () =>
        (
          await h.w.db
            .select()
            .from(a)
            .where(and(eq(a.outcome, "running"), inArray(a.bouncer, names)))
        ).length === 0,
      "no attempt left running",
      30_000,
    );
    const rows = await h.w.db.select().from(a).where(inArray(a.bouncer, names)).orderBy(a.id);
    const byUid = new Map<string | null, typeof rows>();
    for (const r of rows) byUid.set(r.bouncerUid, [...(byUid.get(r.bouncerUid) ?? []), r]);
    expect(byUid.size).toBe(names.length);
    for (const attempts of byUid.values()) {
      const sorted = attempts.sort((x, y) => x.startedAt.getTime() - y.startedAt.getTime());
      for (let i = 1; i < sorted.length; i++)
        expect(sorted[i - 1]!.finishedAt!.getTime()).toBeLessThanOrEqual(
          sorted[i]!.startedAt.getTime(),
        );
      // The last attempt configured the bouncer: it succeeded, or a handover cancelled its
      // step-6 wait after the annotation (the next leader's verifier checked it since).
      const last = sorted.at(-1)!;
      if (last.outcome !== "succeeded")
        expect({ outcome: last.outcome, step: last.stepReached, error: last.error }).toEqual({
          outcome: "failed",
          step: "verify_upstream_login",
          error: expect.stringMatching(/^SetupCancelled: cancelled: this worker stopped leading/),
        });
    }
    // The burst really crossed the handovers: setups ran on at least three replicas.
    expect(new Set(rows.map((r) => r.runner)).size).toBeGreaterThanOrEqual(3);
  });
}, 600_000);
