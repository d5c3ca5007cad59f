import { eq } from "drizzle-orm";
import pg from "pg";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { Controller } from "../src/bouncers/controller";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { runSetup, type SetupDeps } from "../src/bouncers/setup";
import { createWorkerMetrics } from "../src/metrics/worker-metrics";
import type { OpenTenantDb, OwnershipStore, SetupLock } from "../src/ports/index";
import { gate, type Gate } from "./support/gates";
import { NS, startHarness, until, type Harness } from "./support/harness";

/**
 * Issue 17: the setup's reads run ahead of their steps, its step records are written behind it,
 * and step 6 does not hold a setup slot — without giving up step order, recording before the
 * annotation, or the verification's outcome.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
});
afterAll(async () => {
  await h?.stop();
});

async function readyBouncer(name: string) {
  await h.createBouncer(name);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
}

async function attemptsOf(name: string) {
  const uid = (await h.w.bouncers.get(name))?.metadata.uid ?? "";
  return h.w.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncerUid, uid))
    .orderBy(accounts.bouncerSetupAttempts.attemptNo);
}

/** The soju port with `sasl status` of bouncer `name` held at `g` (its first call only). */
function holdSaslStatusOf(name: string, g: Gate): SetupDeps["soju"] {
  const soju = h.w.deps.soju;
  let held = false;
  return Object.assign(Object.create(soju) as SetupDeps["soju"], {
    saslStatus: async (...args: Parameters<SetupDeps["soju"]["saslStatus"]>) => {
      if (args[0] === name && !held) {
        held = true;
        await g.wait();
      }
      return soju.saslStatus(...args);
    },
  });
}

const configured = (name: string) => h.annotations(name)[ANNOTATION_UPSTREAM_CONFIGURED] === "true";

describe("setup reads ahead, records behind", () => {
  it("asks for the ownership and the credential Secret while soju's user check is still out; a failed read fails its own step", async () => {
    await readyBouncer("ahead");
    const calls: string[] = [];
    // soju's user check is held until the test opens it.
    const userCheck = gate();
    const openTenantDb: OpenTenantDb = async (name) => {
      const tenant = await h.w.deps.openTenantDb(name);
      return {
        ...tenant,
        hasUser: async (username) => {
          calls.push("hasUser");
          await userCheck.wait();
          return tenant.hasUser(username);
        },
        saslPlainCredentials: (u, n) => tenant.saslPlainCredentials(u, n),
        close: () => tenant.close(),
      };
    };
    const ownership: OwnershipStore = {
      ...h.w.deps.ownership,
      ownerOf: async () => {
        calls.push("ownerOf");
        throw new Error("accounts DB: ergo_accounts unreadable");
      },
    };
    const credentials: SetupDeps["credentials"] = {
      ...h.w.deps.credentials,
      ensure: (username, candidate) => {
        calls.push("credential");
        return h.w.deps.credentials.ensure(username, candidate);
      },
    };
    const run = reconcileBouncer({ ...h.w.deps, openTenantDb, ownership, credentials }, "ahead");
    await userCheck.reached;
    // Both reads are out before the first step's own check has answered.
    await until(() => calls.includes("ownerOf") && calls.includes("credential"), "reads ahead");
    userCheck.open();
    const { result, next } = await run;
    // The ownership lookup belongs to ensure_ergo_account: its failure is recorded there, after
    // the steps before it ran (the credential was chosen), and nothing of ergo was touched.
    expect(result).toMatchObject({
      outcome: "failed",
      step: "ensure_ergo_account",
      configured: false,
      error: expect.stringContaining("ergo_accounts unreadable"),
    });
    expect(next).toBe("retry");
    expect(h.credential("ahead")).toBeDefined();
    expect(h.ergo.accountExists("ahead")).toBe(false);
    const [row] = await attemptsOf("ahead");
    expect([row?.outcome, row?.stepReached]).toEqual(["failed", "ensure_ergo_account"]);
    expect(configured("ahead")).toBe(false);
    // The retry (ownership readable again) finishes it.
    const again = await reconcileBouncer(h.w.deps, "ahead");
    expect(again.result).toMatchObject({ outcome: "succeeded", attemptNo: 2 });
  });

  it("does not wait for a step's record before running it, but an unrecordable step fails the setup before the annotation", async () => {
    await readyBouncer("behind");
    // The record of `apply_soju_network` is held, then fails.
    const record = gate();
    let applied = false;
    const deps: SetupDeps = {
      ...h.w.deps,
      recorder: {
        ...h.w.deps.recorder,
        step: async (id, step) => {
          if (step !== "apply_soju_network") return h.w.deps.recorder.step(id, step);
          await record.wait();
          throw new Error("accounts DB went away");
        },
      },
      soju: new Proxy(h.w.deps.soju, {
        get(target, key, receiver) {
          const value: unknown = Reflect.get(target, key, receiver);
          if (typeof value !== "function") return value;
          if (key !== "applyUpstreamNetwork") return (value as () => unknown).bind(target);
          return async (...args: unknown[]) => {
            const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(
              target,
              args,
            );
            applied = true;
            return out;
          };
        },
      }),
    };
    const run = reconcileBouncer(deps, "behind");
    await record.reached;
    // The soju step ran while its record was still on its way (the old setup waited for it)…
    await until(() => applied, "the soju step to run before its record was written");
    // …but nothing is annotated before every step is on record.
    await new Promise((r) => setTimeout(r, 200));
    expect(configured("behind")).toBe(false);
    record.open();
    const { result, next } = await run;
    expect(result).toMatchObject({
      outcome: "failed",
      step: "apply_soju_network",
      configured: false,
      error: expect.stringContaining("accounts DB went away"),
    });
    expect(next).toBe("retry");
    expect(configured("behind")).toBe(false);
    // The attempt's end is still written (after the step records, so the step does not move back).
    const [row] = await attemptsOf("behind");
    expect([row?.outcome, row?.stepReached]).toEqual(["failed", "apply_soju_network"]);
    expect(row?.error).toContain("accounts DB went away");

    // The retry succeeds, and records every step in order up to `done`.
    const again = await reconcileBouncer(h.w.deps, "behind");
    expect(again.result).toMatchObject({ outcome: "succeeded", attemptNo: 2 });
    expect((await attemptsOf("behind")).map((a) => [a.outcome, a.stepReached])).toEqual([
      ["failed", "apply_soju_network"],
      ["succeeded", "done"],
    ]);
  });
});

describe("step 6 beside the setup queue", () => {
  it("the next setup runs while the previous one's verification is still pending; the verification's outcome is recorded as before", async () => {
    // One setup slot: the old controller held it through step 6.
    const verifying = gate();
    const deps: SetupDeps = {
      ...h.w.deps,
      soju: holdSaslStatusOf("first", verifying),
    };
    const registry = new Registry();
    const controller = new Controller({
      deps,
      kubeConfig: h.kubeConfig,
      namespace: NS,
      accountsDb: h.w.db,
      metrics: createWorkerMetrics(registry),
      tenantUrls: h.w.tenantUrls,
      verifyIntervalMs: 600_000,
      usersIntervalMs: 600_000,
      tenantsIntervalMs: 600_000,
      concurrency: 1,
      retryBaseMs: 200,
      retryMaxMs: 2_000,
    });
    try {
      await readyBouncer("first");
      controller.start();
      await verifying.reached; // first: annotated, its step 6 held at soju's `sasl status`
      expect(configured("first")).toBe(true);
      const uid = (await h.w.bouncers.get("first"))!.metadata.uid!;
      expect(h.w.deps.locks.held.has(uid)).toBe(true); // still fenced while it verifies

      await readyBouncer("second");
      await until(() => configured("second"), "second annotated while first verifies", 30_000);
      const [first] = await attemptsOf("first");
      expect([first?.outcome, first?.stepReached]).toEqual(["running", "verify_upstream_login"]);

      verifying.open();
      await controller.idle();
      expect((await attemptsOf("first")).map((a) => [a.outcome, a.stepReached])).toEqual([
        ["succeeded", "done"],
      ]);
      expect((await attemptsOf("second")).map((a) => [a.outcome, a.stepReached])).toEqual([
        ["succeeded", "done"],
      ]);
      expect(h.w.deps.locks.held.has(uid)).toBe(false);
      expect(await registry.getSingleMetricAsString("irc_now_setup_attempts_total")).toMatch(
        /outcome="succeeded"\} 2/,
      );
    } finally {
      verifying.open();
      await controller.stop();
    }
  });

  it("a lock session lost during step 6 does not fail the verification: the setup succeeds and its lock is gone", async () => {
    await readyBouncer("lostlate");
    const verifying = gate();
    const bouncer = (await h.w.bouncers.get("lostlate"))!;
    // Its first look is held, then reports soju not logged in yet: step 6 waits and looks again.
    const soju = h.w.deps.soju;
    let looks = 0;
    const slowLogin = Object.assign(Object.create(soju) as SetupDeps["soju"], {
      saslStatus: async (...args: Parameters<SetupDeps["soju"]["saslStatus"]>) => {
        if (args[0] !== "lostlate" || looks++ > 0) return soju.saslStatus(...args);
        await verifying.wait();
        return { plainUsername: args[1], state: { kind: "disconnected" as const } };
      },
    });
    const run = runSetup({ ...h.w.deps, soju: slowLogin }, bouncer);
    await verifying.reached; // annotated; step 6 held
    // A DB failover ends the lock's session: nothing is written any more but this attempt's rows.
    const admin = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await admin.connect();
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE application_name = 'irc-now-worker setup lock' AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    expect(rows[0]!.n).toBeGreaterThanOrEqual(1);
    await until(() => !h.w.deps.locks.held.has(bouncer.metadata.uid!), "the lock's loss noticed");
    verifying.open();
    expect(await run).toMatchObject({ outcome: "succeeded", authenticated: true });
    expect(looks).toBeGreaterThanOrEqual(2);
    expect((await attemptsOf("lostlate")).map((a) => [a.outcome, a.stepReached])).toEqual([
      ["succeeded", "done"],
    ]);
  });

  it("stopping the controller waits for a pending verification to end and release its lock", async () => {
    const verifying = gate();
    const deps: SetupDeps = {
      ...h.w.deps,
      soju: holdSaslStatusOf("stopped", verifying),
    };
    const controller = new Controller({
      deps,
      kubeConfig: h.kubeConfig,
      namespace: NS,
      accountsDb: h.w.db,
      metrics: createWorkerMetrics(new Registry()),
      tenantUrls: h.w.tenantUrls,
      verifyIntervalMs: 600_000,
      usersIntervalMs: 600_000,
      tenantsIntervalMs: 600_000,
      concurrency: 1,
    });
    await readyBouncer("stopped");
    controller.start();
    await verifying.reached;
    const uid = (await h.w.bouncers.get("stopped"))!.metadata.uid!;
    let stopped = false;
    const stopping = controller.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // the lease must not go while a verification holds a lock
    verifying.open();
    await stopping;
    expect(h.w.deps.locks.held.has(uid)).toBe(false);
    const rows = await attemptsOf("stopped");
    expect(rows).toHaveLength(1);
    expect(rows[0]?.outcome).not.toBe("running");
    expect(configured("stopped")).toBe(true);
  });
});

describe("a setup whose attempt row cannot be written", () => {
  it("fails once, with nothing left unhandled, even while its tenant DB is still closing", async () => {
    await readyBouncer("no-attempt-row");
    const bouncer = (await h.w.bouncers.get("no-attempt-row"))!;
    const closing = gate();
    const openTenantDb: OpenTenantDb = async (name) => {
      const tenant = await h.w.deps.openTenantDb(name);
      return {
        ...tenant,
        close: async () => {
          await closing.wait();
          await tenant.close();
        },
      };
    };
    // The accounts DB restarting: the attempt's row (the first write) fails a little later.
    const recorder: SetupDeps["recorder"] = {
      ...h.w.deps.recorder,
      start: async () => {
        await new Promise((r) => setTimeout(r, 20));
        throw new Error("Connection terminated unexpectedly");
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.prependListener("unhandledRejection", onUnhandled);
    try {
      const setup = runSetup({ ...h.w.deps, openTenantDb, recorder }, bouncer);
      // The failure is known while the tenant DB's close is still held: give Node the turns in
      // which it reports a rejection nobody handles.
      await new Promise((r) => setTimeout(r, 200));
      closing.open();
      await expect(setup).rejects.toThrow("Connection terminated unexpectedly");
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.removeListener("unhandledRejection", onUnhandled);
    }
    expect(configured("no-attempt-row")).toBe(false);
  });
});

describe("one exec session per setup", () => {
  it("the whole setup, step 6's sasl status included, is one exec session and one pod lookup", async () => {
    await readyBouncer("one-exec");
    const bouncer = (await h.w.bouncers.get("one-exec"))!;
    const execs: string[] = [];
    let podLookups = 0;
    const off = h.kube.onRequest(({ method, url }) => {
      const target = decodeURIComponent(url);
      if (target.includes("/pods/one-exec-soju-0/exec?")) execs.push(target);
      if (method === "GET" && /\/pods\?.*irc\.now\/bouncer=one-exec(&|$)/.test(target))
        podLookups += 1;
    });
    try {
      expect(await runSetup(h.w.deps, bouncer)).toMatchObject({
        outcome: "succeeded",
        authenticated: true,
      });
    } finally {
      off();
    }
    expect(execs).toHaveLength(1);
    expect(podLookups).toBe(1);
  });
});

describe("the soju step beside ergo's", () => {
  /** The irc.now network as this bouncer's soju stores it (its tenant DB). */
  async function networkOf(name: string) {
    const client = new pg.Client({ connectionString: h.operator.get(name)!.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ enabled: boolean; password: string | null }>(
        `SELECT enabled, sasl_plain_password AS password FROM "Network" WHERE name = 'irc.now'`,
      );
      return rows[0];
    } finally {
      await client.end();
    }
  }

  /** The ergo port with the SASL proof of `username` held at `g`, then answered by `answer`. */
  function holdProof(username: string, g: Gate, answer?: boolean): SetupDeps["ergo"] {
    const ergo = h.w.deps.ergo;
    return Object.assign(Object.create(ergo) as SetupDeps["ergo"], {
      checkCredentials: async (user: string, password: string) => {
        if (user !== username) return ergo.checkCredentials(user, password);
        await g.wait();
        return answer ?? ergo.checkCredentials(user, password);
      },
    });
  }

  it("writes the network (disabled, with the credentials) while ergo proves the password, and enables it only after", async () => {
    await readyBouncer("beside-ok");
    const bouncer = (await h.w.bouncers.get("beside-ok"))!;
    const g = gate();
    const setup = runSetup({ ...h.w.deps, ergo: holdProof("beside-ok", g) }, bouncer);
    await g.reached;
    // ergo's proof is held: soju already has the network and the password, disabled.
    await until(
      async () => (await networkOf("beside-ok"))?.password != null,
      "the network written",
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await networkOf("beside-ok")).toEqual({
      enabled: false,
      password: h.credential("beside-ok"),
    });
    g.open();
    expect(await setup).toMatchObject({ outcome: "succeeded", authenticated: true });
    expect((await networkOf("beside-ok"))?.enabled).toBe(true);
    expect(configured("beside-ok")).toBe(true);
  });

  it("a setup that lost its lock while ergo proved the password never enables soju", async () => {
    await readyBouncer("beside-lost");
    const bouncer = (await h.w.bouncers.get("beside-lost"))!;
    const g = gate();
    let lock: SetupLock | null = null;
    const locks: SetupDeps["locks"] = {
      held: h.w.deps.locks.held,
      tryAcquire: async (uid) => (lock = await h.w.deps.locks.tryAcquire(uid)),
    };
    const setup = runSetup({ ...h.w.deps, locks, ergo: holdProof("beside-lost", g) }, bouncer);
    await g.reached;
    await until(
      async () => (await networkOf("beside-lost"))?.password != null,
      "the network written",
    );
    // A DB failover ends the lock's session while ergo's answer is still out.
    const admin = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await admin.connect();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'irc-now-worker setup lock' AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    await until(() => (lock as SetupLock | null)?.lost.aborted, "the lock to be lost");
    g.open(); // ergo accepts the password
    expect(await setup).toMatchObject({ outcome: "failed", configured: false });
    await new Promise((r) => setTimeout(r, 200));
    expect((await networkOf("beside-lost"))?.enabled).toBe(false);
  });

  it("a password ergo refuses is never enabled in soju: the setup fails at the proof, the network stays disabled", async () => {
    await readyBouncer("beside-no");
    const bouncer = (await h.w.bouncers.get("beside-no"))!;
    const g = gate();
    g.open();
    const result = await runSetup({ ...h.w.deps, ergo: holdProof("beside-no", g, false) }, bouncer);
    expect(result).toMatchObject({
      outcome: "failed",
      step: "verify_ergo_credentials",
      configured: false,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect((await networkOf("beside-no"))?.enabled ?? false).toBe(false);
    expect(configured("beside-no")).toBe(false);
    // The retry (ergo accepting again) converges: the same network, updated and enabled.
    expect(await runSetup(h.w.deps, (await h.w.bouncers.get("beside-no"))!)).toMatchObject({
      outcome: "succeeded",
    });
    expect((await networkOf("beside-no"))?.enabled).toBe(true);
  });
});
