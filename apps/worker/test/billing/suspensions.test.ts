import { eq, sql } from "drizzle-orm";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { reconcileSuspensions } from "@irc-now/billing";
import { SojuUnavailable } from "@irc-now/soju";
import { endExpiredGrace } from "../../src/billing/grace";
import { billingMetrics } from "../../src/billing/metrics";
import type { SuspensionDeps } from "../../src/billing/ports";
import { startSuspensionApplier } from "../../src/billing/runner";
import { applySuspensions, type RetryBook } from "../../src/billing/suspensions";
import { reconcileBouncer } from "../../src/bouncers/reconcile";
import { verifyBouncer } from "../../src/bouncers/verifier";
import { startHarness, until, type Harness } from "../support/harness";
import { bouncerRow, ircLogin, project, setSuspended } from "./support";

/**
 * Suspensions applied to soju (issue 14) through the worker's real wiring: a real PostgreSQL,
 * the Kubernetes stand-in with its operator running one soju stand-in per bouncer (pinned to the
 * real soju 0.10.1's `user update -enabled`, tooling/standins), the ergo stand-in upstream, and
 * the production SojuAdmin (exec through the Kubernetes stand-in).
 */
let h: Harness;
const sam = ["sam-a", "sam-b", "sam-c"];
let samId: string;
let registry: Registry;
let deps: SuspensionDeps;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"), { operator: { downstream: true } });
  for (const name of sam) await h.createBouncer(name, "sam");
  for (const name of sam) await h.operator.provisioned(name);
  await until(() => sam.every((n) => h.readyOf(n) === "True"), "sam's bouncers Ready");
  // Upstream set up, so a suspension has a login to drop and a resume one to bring back.
  for (const name of sam)
    expect((await reconcileBouncer(h.w.deps, name)).result).toMatchObject({
      outcome: "succeeded",
    });
  await project(h, sam);
  samId = await h.userId("sam");
  registry = new Registry();
  deps = { ...h.w.suspensionDeps, metrics: billingMetrics(registry) };
});
afterAll(async () => {
  await h?.stop();
});

const metric = async (name: string) => (await registry.getSingleMetricAsString(name)).trim();

async function upstreamState(name: string) {
  const cr = (await h.w.bouncers.get(name))!;
  return (await verifyBouncer({ ...h.w.deps, network: "irc.now" }, cr)).state;
}

describe("suspension applier", () => {
  it("disables the soju users of the bouncers suspended over the quota (logins refused, upstream dropped), then enables them again", async () => {
    expect(await ircLogin(h, "sam-c", "sam")).toBe("welcome");
    // as the web's webhook path does on a downgrade to free (quota 1)
    const change = await h.w.db.transaction((tx) => reconcileSuspensions(tx, samId, 1));
    expect(change).toEqual({ suspended: ["sam-b", "sam-c"], resumed: [] });

    expect(await applySuspensions(deps)).toEqual({ applied: 2, failed: 0, superseded: 0 });
    for (const name of ["sam-b", "sam-c"]) {
      expect(await ircLogin(h, name, "sam")).toBe("ERROR :This bouncer account is disabled");
      expect((await bouncerRow(h, name)).sojuDisabled).toBe(true);
      expect(await upstreamState(name)).toBe("disconnected");
    }
    expect(await ircLogin(h, "sam-a", "sam")).toBe("welcome");
    expect((await bouncerRow(h, "sam-a")).sojuDisabled).toBeNull(); // never touched
    expect(await metric("irc_now_suspended_bouncers")).toContain("irc_now_suspended_bouncers 2");
    expect(await metric("irc_now_suspension_applies_total")).toContain(
      'irc_now_suspension_applies_total{action="disable",result="applied"} 2',
    );
    // nothing left to do: a pass sends nothing
    expect(await applySuspensions(deps)).toEqual({ applied: 0, failed: 0, superseded: 0 });

    // pro again (quota 3): both resume, soju logs in upstream again and the verifier sees it
    expect(await h.w.db.transaction((tx) => reconcileSuspensions(tx, samId, 3))).toEqual({
      suspended: [],
      resumed: ["sam-b", "sam-c"],
    });
    expect(await applySuspensions(deps)).toEqual({ applied: 2, failed: 0, superseded: 0 });
    for (const name of ["sam-b", "sam-c"]) {
      expect(await ircLogin(h, name, "sam")).toBe("welcome");
      expect((await bouncerRow(h, name)).sojuDisabled).toBe(false);
      await until(
        async () => (await upstreamState(name)) === "authenticated",
        `${name} authenticated upstream again`,
      );
    }
    expect(await metric("irc_now_suspended_bouncers")).toContain("irc_now_suspended_bouncers 0");
    expect(await metric("irc_now_suspension_applies_total")).toContain(
      'irc_now_suspension_applies_total{action="enable",result="applied"} 2',
    );
    // no user name in any label
    expect(await registry.metrics()).not.toMatch(/sam/);
  });

  it("a flip during the apply stays pending and the next pass applies it", async () => {
    await setSuspended(h, "sam-c", true);
    const flipping: SuspensionDeps = {
      ...deps,
      soju: {
        async setUserEnabled(bouncer, username, enabled) {
          // the user regains pro while soju is being told to disable
          await setSuspended(h, "sam-c", false);
          await h.w.deps.soju.setUserEnabled(bouncer, username, enabled);
        },
      },
    };
    expect(await applySuspensions(flipping)).toEqual({ applied: 0, failed: 0, superseded: 1 });
    // soju got the disable and the row records it, but asks for enabled again: still pending
    expect(await ircLogin(h, "sam-c", "sam")).toBe("ERROR :This bouncer account is disabled");
    const row = await bouncerRow(h, "sam-c");
    expect(row.suspendedAt).toBeNull();
    expect(row.sojuDisabled).toBe(true);
    expect(await h.w.suspensionDeps.store.pending(10)).toEqual([
      expect.objectContaining({ name: "sam-c", disable: false }),
    ]);

    expect(await applySuspensions(deps)).toEqual({ applied: 1, failed: 0, superseded: 0 });
    expect(await ircLogin(h, "sam-c", "sam")).toBe("welcome");
    expect(await h.w.suspensionDeps.store.pending(10)).toEqual([]);
  });

  it("a failed apply is retried after its backoff, not before; others go on meanwhile", async () => {
    await setSuspended(h, "sam-b", true);
    await setSuspended(h, "sam-c", true);
    let clock = 1_000_000;
    let refuse = "sam-b";
    const flaky: SuspensionDeps = {
      ...deps,
      now: () => clock,
      random: () => 0.5,
      settings: { ...deps.settings, retryBaseMs: 1_000, retryCapMs: 8_000 },
      soju: {
        async setUserEnabled(bouncer, username, enabled) {
          if (bouncer === refuse) throw new SojuUnavailable("no running pod");
          await h.w.deps.soju.setUserEnabled(bouncer, username, enabled);
        },
      },
    };
    const retries: RetryBook = new Map();
    expect(await applySuspensions(flaky, retries)).toEqual({
      applied: 1,
      failed: 1,
      superseded: 0,
    });
    expect(await ircLogin(h, "sam-c", "sam")).toBe("ERROR :This bouncer account is disabled");
    expect(await ircLogin(h, "sam-b", "sam")).toBe("welcome");
    // jitter 0.5 of [500, 1000] ms: due at 750 ms
    expect([...retries.values()]).toEqual([{ failures: 1, dueAt: 1_000_750 }]);

    clock += 700; // not due yet: nothing is sent
    expect(await applySuspensions(flaky, retries)).toEqual({
      applied: 0,
      failed: 0,
      superseded: 0,
    });
    clock += 100; // due, fails again: the backoff doubles
    expect(await applySuspensions(flaky, retries)).toEqual({
      applied: 0,
      failed: 1,
      superseded: 0,
    });
    expect([...retries.values()]).toEqual([{ failures: 2, dueAt: 1_000_800 + 1_500 }]);

    refuse = "";
    clock += 1_500;
    expect(await applySuspensions(flaky, retries)).toEqual({
      applied: 1,
      failed: 0,
      superseded: 0,
    });
    expect(retries.size).toBe(0);
    expect(await ircLogin(h, "sam-b", "sam")).toBe("ERROR :This bouncer account is disabled");
    expect(await metric("irc_now_suspension_applies_total")).toContain(
      'irc_now_suspension_applies_total{action="disable",result="failed"} 2',
    );
  });

  it("leaves a bouncer that is not Ready (no soju to take the command) for later", async () => {
    await setSuspended(h, "sam-b", false);
    await setSuspended(h, "sam-c", false);
    await applySuspensions(deps);
    await setSuspended(h, "sam-a", true);
    await h.w.db.execute(sql`
      UPDATE bouncers SET resource = jsonb_set(resource, '{status,conditions}',
        '[{"type":"Ready","status":"False","reason":"Starting"}]'::jsonb)
       WHERE name = 'sam-a'`);
    expect(await applySuspensions(deps)).toEqual({ applied: 0, failed: 0, superseded: 0 });
    expect(await ircLogin(h, "sam-a", "sam")).toBe("welcome");
    expect(await h.w.suspensionDeps.store.counts()).toEqual({ suspended: 1, pending: 1 });
    // Ready again (the watch rewrites the row): applied
    await project(h, ["sam-a"]);
    await h.w.db.execute(sql`UPDATE bouncers SET resource_version = NULL WHERE name = 'sam-a'`);
    await project(h, ["sam-a"]);
    expect(await applySuspensions(deps)).toEqual({ applied: 1, failed: 0, superseded: 0 });
    expect(await ircLogin(h, "sam-a", "sam")).toBe("ERROR :This bouncer account is disabled");
    await setSuspended(h, "sam-a", false);
    await applySuspensions(deps);
    expect(await ircLogin(h, "sam-a", "sam")).toBe("welcome");
  });

  it("the running applier wakes on the bouncer-change notification", async () => {
    const applier = startSuspensionApplier({
      deps,
      databaseUrl: h.config.DATABASE_URL,
      pollMs: 600_000, // only a notification can trigger the second pass
    });
    try {
      // the first pass (at start) finds nothing; then a suspension is written
      await until(async () => (await h.w.suspensionDeps.store.pending(10)).length === 0, "idle");
      await setSuspended(h, "sam-c", true);
      await until(
        async () => (await bouncerRow(h, "sam-c")).sojuDisabled === true,
        "sam-c disabled by the running applier",
      );
      expect(await ircLogin(h, "sam-c", "sam")).toBe("ERROR :This bouncer account is disabled");
      await setSuspended(h, "sam-c", false);
      await until(
        async () => (await bouncerRow(h, "sam-c")).sojuDisabled === false,
        "sam-c enabled by the running applier",
      );
    } finally {
      await applier.stop();
    }
  });
});

describe("grace-period check", () => {
  it("drops a user whose past_due grace ended to free and suspends the newest extra bouncer; one within grace stays pro", async () => {
    const gina = ["gina-a", "gina-b"];
    for (const name of gina) await h.createBouncer(name, "gina");
    for (const name of gina) await h.operator.provisioned(name);
    await until(() => gina.every((n) => h.readyOf(n) === "True"), "gina's bouncers Ready");
    await project(h, gina);
    const ginaId = await h.userId("gina");
    const gretaId = await h.userId("greta");
    const now = new Date();
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
    const pastDue = (since: Date, who: string) => ({
      plan: "pro" as const,
      stripeCustomerId: `cus_${who}`,
      stripeSubscriptionId: `sub_${who}`,
      stripeSubscriptionStatus: "past_due",
      pastDueSince: since,
    });
    await h.w.db
      .update(accounts.users)
      .set(pastDue(daysAgo(8), "gina"))
      .where(eq(accounts.users.id, ginaId));
    await h.w.db
      .update(accounts.users)
      .set(pastDue(daysAgo(2), "greta"))
      .where(eq(accounts.users.id, gretaId));
    expect(h.w.graceDeps.settings).toEqual({ graceDays: 7, quotaFree: 1, quotaPro: 3 });
    const outboxBefore = await outboxRows(ginaId);

    const metrics = billingMetrics(new Registry());
    expect(await endExpiredGrace({ ...h.w.graceDeps, metrics, now: () => now })).toEqual({
      ended: 1,
      failed: 0,
    });
    const plan = async (id: string) =>
      (await h.w.db.select().from(accounts.users).where(eq(accounts.users.id, id)))[0]?.plan;
    expect(await plan(ginaId)).toBe("free");
    expect(await plan(gretaId)).toBe("pro");
    expect(await outboxRows(ginaId)).toBe(outboxBefore + 1);
    expect((await bouncerRow(h, "gina-a")).suspendedAt).toBeNull();
    expect((await bouncerRow(h, "gina-b")).suspendedReason).toBe("over_quota");
    // again: nothing more to do
    expect(await endExpiredGrace({ ...h.w.graceDeps, now: () => now })).toEqual({
      ended: 0,
      failed: 0,
    });

    expect(await applySuspensions(deps)).toEqual({ applied: 1, failed: 0, superseded: 0 });
    expect(await ircLogin(h, "gina-b", "gina")).toBe("ERROR :This bouncer account is disabled");
    expect(await ircLogin(h, "gina-a", "gina")).toBe("welcome");
  });
});

async function outboxRows(userId: string): Promise<number> {
  const { rows } = await h.w.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM keycloak_outbox WHERE user_id = ${userId}`,
  );
  return rows[0]?.n ?? 0;
}
