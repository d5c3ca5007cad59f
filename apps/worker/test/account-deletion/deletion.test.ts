import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accountDeletionMetrics } from "../../src/metrics/account-deletion";
import { advanceDeletions, startDeletionJob } from "../../src/account-deletion/run";
import { runDeletion } from "../../src/account-deletion/steps";
import { anonymousId } from "../../src/account-deletion/store";
import { until } from "../support/harness";
import {
  gone,
  intact,
  startDeletionWorld,
  withFault,
  type DeletionWorld,
  type FaultStep,
  type Seeded,
} from "./support";

// Deleting an account over a real PostgreSQL, the Kubernetes, ergo and Keycloak stand-ins, with
// the worker's production wiring. Every case has a bystander whose name starts like the victim's
// (al3 / al3ice): their bouncers, ergo account, Secret, Keycloak user and rows must survive.

let world: DeletionWorld;
beforeAll(async () => {
  world = await startDeletionWorld(inject("postgresUrl"), "account_deletion");
});
afterAll(async () => {
  await world?.stop();
});

let n = 0;
async function pair(): Promise<{ victim: Seeded; bystander: Seeded; jobId: string }> {
  n++;
  const victim = await world.seedUser(`al${n}`, [`al${n}`, `al${n}-two`]);
  const bystander = await world.seedUser(`al${n}ice`, [`al${n}ice`]);
  const jobId = await world.requestDeletion(victim);
  return { victim, bystander, jobId };
}

const STEPS: FaultStep[] = [
  "bouncers",
  "ergo_account",
  "ergo_secret",
  "subscription",
  "keycloak_user",
  "accounts_rows",
];

describe("account deletion job", () => {
  it("deletes everything of the user and nothing of anyone else; the row keeps no name", async () => {
    const { victim, bystander, jobId } = await pair();
    // before: all there (the audit log also holds the user's own request)
    expect(await world.traces(victim)).toEqual({ ...intact(victim), auditMentions: 2 });
    expect(await advanceDeletions(world.w.deletionDeps)).toBe(1);

    expect(await world.traces(victim)).toEqual(gone);
    expect(await world.traces(bystander)).toEqual(intact(bystander));
    const job = await world.job(jobId);
    expect(job).toMatchObject({
      step: "done",
      username: null,
      keycloakSubject: null,
      stripeCustomerId: null,
      stripeSubscriptionId: null,
      lastError: null,
      userId: victim.userId,
    });
    expect(job.completedAt).toBeInstanceOf(Date);
    // the audit rows stay, anonymous: the user's own request and the admin's act on their bouncer
    const { rows } = await world.w.db.execute<{
      actor_username: string;
      target: string;
      details: unknown;
    }>(
      `SELECT actor_username, target, details FROM admin_audit_log WHERE actor_username = '${anonymousId(job)}' OR target LIKE '%${anonymousId(job)}' ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        actor_username: "staff-admin",
        target: `sojubouncer/irc-now/${anonymousId(job)}`,
        details: {
          account: anonymousId(job),
          ownerUserId: anonymousId(job),
          bouncerUid: victim.bouncers[0]!.uid,
        },
      },
      {
        actor_username: anonymousId(job),
        target: `user/${anonymousId(job)}`,
        details: { userId: anonymousId(job) },
      },
    ]);
    // the name is free again on ergo (ERASE, not UNREGISTER)
    await expect(world.w.deps.ergo.register(victim.username, "a-new-password-1")).resolves.toBe(
      "created",
    );
    // nothing more to do
    expect(await advanceDeletions(world.w.deletionDeps)).toBe(0);
  });

  describe.each(STEPS)("a fault at %s", (step) => {
    it("before the step: recorded at that step with last_error; the next run completes", async () => {
      const { victim, bystander, jobId } = await pair();
      const faulty = withFault(world.w.deletionDeps, step, "before");
      await expect(runDeletion(faulty.deps, await world.job(jobId))).resolves.toBe("failed");
      expect(faulty.fired()).toBe(true);
      const failed = await world.job(jobId);
      expect(failed.step).toBe(step);
      expect(failed.attempts).toBe(1);
      expect(failed.lastError).toContain(`${step}: injected fault before ${step}`);
      expect(failed.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
      expect(failed.completedAt).toBeNull();
      // not due yet: a pass leaves it alone
      expect(await advanceDeletions(world.w.deletionDeps)).toBe(0);

      await world.due(jobId);
      expect(await advanceDeletions(world.w.deletionDeps)).toBe(1);
      expect((await world.job(jobId)).step).toBe("done");
      expect(await world.traces(victim)).toEqual(gone);
      expect(await world.traces(bystander)).toEqual(intact(bystander));
    });

    it("a crash right after the step did its work (not recorded): the step runs again, idempotent, and the job completes", async () => {
      const { victim, bystander, jobId } = await pair();
      const faulty = withFault(world.w.deletionDeps, step, "after");
      await runDeletion(faulty.deps, await world.job(jobId));
      expect(faulty.fired()).toBe(true);
      const crashed = await world.job(jobId);
      if (step === "accounts_rows") {
        // its work and its record are one transaction: nothing left to resume
        expect(crashed.step).toBe("done");
      } else {
        expect(crashed.step).toBe(step);
        await world.due(jobId);
        expect(await advanceDeletions(world.w.deletionDeps)).toBe(1);
      }
      expect((await world.job(jobId)).step).toBe("done");
      expect(await world.traces(victim)).toEqual(gone);
      expect(await world.traces(bystander)).toEqual(intact(bystander));
    });
  });

  it("Keycloak down: the job waits at keycloak_user with capped backoff, then finishes", async () => {
    const { victim, bystander, jobId } = await pair();
    const outage = await world.kc.outage();
    try {
      for (let i = 1; i <= 3; i++) {
        await world.due(jobId);
        await advanceDeletions(world.w.deletionDeps);
        const job = await world.job(jobId);
        expect(job.step).toBe("keycloak_user");
        expect(job.attempts).toBe(i);
        // 1 s doubling, capped at 10 s, jittered down by at most half
        const delay = job.nextAttemptAt.getTime() - Date.now();
        expect(delay).toBeLessThanOrEqual(Math.min(10_000, 1_000 * 2 ** (i - 1)) + 1_000);
      }
      const waiting = await world.traces(victim);
      expect(waiting).toMatchObject({
        bouncerCrs: 0,
        ergoAccount: false,
        secret: false,
        keycloakUser: true,
        userRow: true,
      });
    } finally {
      await outage.restore();
    }
    await world.due(jobId);
    await advanceDeletions(world.w.deletionDeps);
    expect(await world.traces(victim)).toEqual(gone);
    expect(await world.traces(bystander)).toEqual(intact(bystander));
  });

  it("an ergo account the portal does not own for this user is never erased", async () => {
    n++;
    const victim = await world.seedUser(`al${n}`, []);
    // a staff account named like a bouncer-less user's name, owned by nobody in the portal
    const staff = `al${n}staff`;
    await world.ergo.registerAccount(staff, "staff-password-1");
    await world.w.db.execute(
      `INSERT INTO ergo_accounts (account, owner_user_id, origin) SELECT '${staff}', id, 'adopted' FROM users WHERE username = 'nobody-such'`,
    );
    const jobId = await world.requestDeletion(victim);
    await advanceDeletions(world.w.deletionDeps);
    expect((await world.job(jobId)).step).toBe("done");
    expect(world.ergo.accountExists(staff)).toBe(true);
    expect(world.ergo.accountExists(victim.username)).toBe(false);
  });

  it("an unrecorded registration (lost ownership row) is erased only because it takes the user's credential", async () => {
    n++;
    const victim = await world.seedUser(`al${n}`, []);
    await world.w.db.execute(`DELETE FROM ergo_accounts WHERE account = '${victim.username}'`);
    const jobId = await world.requestDeletion(victim);
    await advanceDeletions(world.w.deletionDeps);
    expect((await world.job(jobId)).step).toBe("done");
    expect(world.ergo.accountExists(victim.username)).toBe(false);

    // the same situation, but the ergo account has another password: someone else's, kept
    n++;
    const other = await world.seedUser(`al${n}`, []);
    await world.w.db.execute(`DELETE FROM ergo_accounts WHERE account = '${other.username}'`);
    await world.w.deps.ergo.resetPassword(other.username, "not-the-users-password-1");
    const otherJob = await world.requestDeletion(other);
    await advanceDeletions(world.w.deletionDeps);
    expect((await world.job(otherJob)).step).toBe("done");
    expect(world.ergo.accountExists(other.username)).toBe(true);
  });

  it("wakes on the request's NOTIFY (leader loop), and reports pending deletions as metrics", async () => {
    const registry = new Registry();
    const metrics = accountDeletionMetrics(registry);
    const job = startDeletionJob({
      deps: { ...world.w.deletionDeps, metrics },
      databaseUrl: (world.w.db.$client.options as { connectionString: string }).connectionString,
      pollMs: 60_000,
    });
    try {
      // the first pass runs at once; then only a notification can start one within 60 s
      await until(
        async () =>
          (await registry.getSingleMetric("irc_now_account_deletions_pending")?.get())?.values[0]
            ?.value === 0,
        "first pass",
      );
      const { victim, jobId } = await pair();
      await until(
        async () => (await world.job(jobId)).step === "done",
        "deletion after NOTIFY",
        15_000,
      );
      expect(await world.traces(victim)).toEqual(gone);
      const text = await registry.metrics();
      expect(text).toMatch(/irc_now_account_deletions_pending 0/);
      expect(text).toMatch(
        /irc_now_account_deletion_steps_total\{step="keycloak_user",result="done"\} 1/,
      );
    } finally {
      await job.stop();
    }
  });
});
