import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { eq } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { ANNOTATION_RETRY_REQUESTED_AT, ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { runSetup } from "../src/bouncers/setup";
import { createLogger } from "../src/logger";
import { wire, type Wiring } from "../src/wiring";
import { gate, holdAt } from "./support/gates";
import { CR, NS, startHarness, until, type Harness } from "./support/harness";

/** Issue 10 item 2: two workers never run one bouncer's setup at once, and never disagree. */
let h: Harness;
/** A second replica: its own DB pool, lock connections, ergo session and soju clients. */
let other: Wiring;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
  other = wire(h.config, createLogger("silent", "replica-b"), { identity: "replica-b" });
  other.deps.settings = h.w.deps.settings;
});
afterAll(async () => {
  await other?.close();
  await h?.stop();
});

async function readyBouncer(name: string, username = name) {
  await h.createBouncer(name, username);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
  return (await h.w.bouncers.get(name))!;
}

/** soju, ergo and the Secret agree, and this bouncer's soju is logged in. */
async function expectConsistent(name: string, username = name) {
  const password = h.credential(username)!;
  expect((await h.storedSasl(name))?.password).toBe(password);
  expect(await h.ergo.checkPassword(username, password)).toBe(true);
  await until(
    async () =>
      (await h.w.deps.soju.saslStatus(name, username, "irc.now")).state.kind === "authenticated",
    `${name} logged in`,
  );
}

async function attempts(name: string) {
  const uid = (await h.w.bouncers.get(name))!.metadata.uid!;
  return h.w.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncerUid, uid))
    .orderBy(accounts.bouncerSetupAttempts.attemptNo);
}

/** True when no session holds the bouncer's setup lock (probed through replica B's locks). */
async function runSetupLockFree(uid: string): Promise<boolean> {
  // A pooled connection the termination also ended fails once; the next probe opens a new one.
  const lock = await other.deps.locks.tryAcquire(uid).catch(() => null);
  await lock?.release();
  return lock !== null;
}

describe("fenced setups", () => {
  it("a setup whose lock another replica holds is 'busy': nothing recorded, nothing touched", async () => {
    const bouncer = await readyBouncer("fen-busy");
    const held = await other.deps.locks.tryAcquire(bouncer.metadata.uid!);
    expect(held).not.toBeNull();
    try {
      expect(await runSetup(h.w.deps, bouncer)).toEqual({ outcome: "busy" });
      expect(await reconcileBouncer(h.w.deps, "fen-busy")).toMatchObject({ next: "retry" });
      expect(await attempts("fen-busy")).toEqual([]);
      expect(h.ergo.accountExists("fen-busy")).toBe(false);
    } finally {
      await held!.release();
    }
    expect(await runSetup(h.w.deps, bouncer)).toMatchObject({ outcome: "succeeded" });
  });

  it("handover: the old leader, held mid-setup, cannot run beside the new one; both end consistent", async () => {
    const bouncer = await readyBouncer("fen-hand");
    // Replica A is held right before it applies the soju network (and gives soju the password).
    const g = gate();
    const stopA = new AbortController();
    const a = runSetup(
      { ...h.w.deps, soju: holdAt(h.w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
      stopA.signal,
    );
    await g.reached;
    // Replica B takes over meanwhile: the lock keeps it out.
    expect(await runSetup(other.deps, bouncer)).toEqual({ outcome: "busy" });
    // A is told to stop (it lost the lease) and drains: it ends before annotating.
    stopA.abort(new Error("this worker stopped leading"));
    g.open();
    expect(await a).toMatchObject({ outcome: "failed", configured: false });
    expect(h.annotations("fen-hand")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    // Only now B gets the lock, and finishes.
    expect(await runSetup(other.deps, (await other.bouncers.get("fen-hand"))!)).toMatchObject({
      outcome: "succeeded",
    });
    await expectConsistent("fen-hand");
    const rows = await attempts("fen-hand");
    expect(rows.map((r) => [r.runner, r.outcome])).toEqual([
      ["test-worker", "failed"],
      ["replica-b", "succeeded"],
    ]);
    expect(rows[0]!.error).toMatch(/cancelled/);
    // The two attempts did not overlap in time.
    expect(rows[0]!.finishedAt!.getTime()).toBeLessThanOrEqual(rows[1]!.startedAt.getTime());
  });

  it("a replica whose lock session dies mid-setup stops before annotating; the other finishes", async () => {
    const bouncer = await readyBouncer("fen-lost");
    const g = gate();
    const a = runSetup(
      { ...h.w.deps, soju: holdAt(h.w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
    );
    await g.reached;
    // A network partition / DB failover ends A's lock session: Postgres frees the lock.
    const admin = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await admin.connect();
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE application_name = 'irc-now-worker setup lock' AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    // Postgres frees the lock once the terminated backend has exited (not at once).
    await until(
      async () => (await runSetupLockFree(bouncer.metadata.uid!)) || undefined,
      "the lock freed",
    );
    const b = await runSetup(other.deps, bouncer);
    expect(b).toMatchObject({ outcome: "succeeded" });
    g.open();
    expect(await a).toMatchObject({ outcome: "failed", configured: false });
    expect(h.annotations("fen-lost")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
    await expectConsistent("fen-lost");
  });

  it("an admin retry during a setup fails its annotation (precondition); the rerun annotates", async () => {
    const bouncer = await readyBouncer("fen-retry");
    const g = gate();
    const a = runSetup(
      { ...h.w.deps, soju: holdAt(h.w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
    );
    await g.reached;
    h.kube.objects.patch(CR, NS, "fen-retry", {
      metadata: { annotations: { [ANNOTATION_RETRY_REQUESTED_AT]: new Date().toISOString() } },
    });
    g.open();
    expect(await a).toMatchObject({ outcome: "failed", step: "annotate", configured: false });
    expect(h.annotations("fen-retry")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    const again = await reconcileBouncer(h.w.deps, "fen-retry");
    expect(again.result).toMatchObject({ outcome: "succeeded" });
    await expectConsistent("fen-retry");
  });

  it("an unrelated write to the CR during setup (a label, the operator's status) does not fail the annotation", async () => {
    const bouncer = await readyBouncer("fen-status");
    const g = gate();
    const a = runSetup(
      { ...h.w.deps, soju: holdAt(h.w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
    );
    await g.reached;
    h.kube.objects.patch(CR, NS, "fen-status", { metadata: { labels: { touched: "yes" } } });
    g.open();
    expect(await a).toMatchObject({ outcome: "succeeded" });
  });

  it("a deleted-and-recreated bouncer is never annotated by a setup of its predecessor", async () => {
    const bouncer = await readyBouncer("fen-recreate");
    const g = gate();
    const a = runSetup(
      { ...h.w.deps, soju: holdAt(h.w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
    );
    await g.reached;
    h.kube.objects.delete(CR, NS, "fen-recreate");
    await until(async () => (await h.w.bouncers.get("fen-recreate")) === null, "gone");
    await h.createBouncer("fen-recreate");
    await until(async () => (await h.w.bouncers.get("fen-recreate")) !== null, "recreated");
    g.open();
    expect(await a).toMatchObject({ outcome: "failed", configured: false });
    expect(h.annotations("fen-recreate")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
  });
});
