/**
 * Worker benchmark (issue 6, `npm run bench:worker`; not a test). On the stand-ins, in one run:
 *  (a) setup latency Ready → annotated, p50/p99, beside the wire floor (./worker/floor.ts);
 *  (b) start-up migration of Ready, unannotated bouncers: bouncers/s beside the floor at the
 *      same concurrency;
 *  (c) RSS of the worker process with 10,000 SojuBouncers in the namespace it watches.
 * Every bouncer is owned by its own accounts-DB user (label `irc.now/owner` = `users.id`, as the
 * web app creates it), username = bouncer name, so every setup is a first setup for a new user:
 * no credential Secret yet, no ergo account yet.
 * Writes bench-results/worker.json at the repo root (git-ignored; the committed bench/results/
 * are deliberate snapshots; BENCH_WORKER_OUT writes elsewhere) and prints a short table.
 *
 * The stand-ins run in a peers process of their own (./worker/peers-host.ts; ergo's in one more,
 * ./worker/ergo-host.ts), the worker and the floor script here: in production ergo, soju and
 * the API server are other processes, and in one process their CPU would be charged to the
 * worker's critical path.
 *
 * Knobs (environment): BENCH_LATENCY_COUNT (200), BENCH_MIGRATION_COUNT (1000),
 * BENCH_RSS_CRS (10000), BENCH_CONCURRENCY (4, the Controller's default),
 * BENCH_PHASES (latency,migration,rss), BENCH_RSS_NODE_ARGS (default: the bundle, apps/worker/dist/main.js),
 * BENCH_WORKER_OUT (the results file; relative paths from the current directory).
 */
import { resultsPath } from "./lib/results";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { and, count, eq, ne } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import type { SojuBouncer } from "@irc-now/k8s";
import { Controller } from "../../../apps/worker/src/bouncers/controller";
import { defaultSetupSettings } from "../../../apps/worker/src/bouncers/setup";
import { loadWorkerConfig } from "../../../apps/worker/src/env";
import { createLogger } from "../../../apps/worker/src/logger";
import { createMetricsRegistry } from "../../../apps/worker/src/metrics/registry";
import { createWorkerMetrics } from "../../../apps/worker/src/metrics/worker-metrics";
import { wire, type Wiring } from "../../../apps/worker/src/wiring";
import { createLockPool, floorSetup, type FloorClients } from "./worker/floor";
import {
  procMemory,
  startWorkerProcess,
  waitSynced,
  workerNodeArgs,
  type ProcMemory,
} from "./worker/rss";
import {
  clock,
  closeNamespace,
  createBouncers,
  openNamespace,
  provision,
  type Namespace,
  type RequestsPerBouncer,
} from "./worker/peers";
import { pgPeak, startSplitStack, type SplitStack as Stack } from "./worker/stack";
import {
  chunks,
  createLimiter,
  ratio,
  sleep,
  summarize,
  until,
  type Summary,
} from "./worker/stats";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const resultsFile = process.env.BENCH_WORKER_OUT
  ? resolve(process.env.BENCH_WORKER_OUT)
  : resultsPath("worker");

const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const opts = {
  latencyCount: int("BENCH_LATENCY_COUNT", 200),
  migrationCount: int("BENCH_MIGRATION_COUNT", 1000),
  rssCrs: int("BENCH_RSS_CRS", 10_000),
  concurrency: int("BENCH_CONCURRENCY", 4),
  migrationRuns: int("BENCH_MIGRATION_RUNS", 3),
  warmup: 8,
  phases: new Set(
    (process.env.BENCH_PHASES ?? "latency,migration,rss").split(",").map((s) => s.trim()),
  ),
};
/** Bouncers provisioned at once (and PostgreSQL connections allowed meanwhile; the bench's server allows 500). */
const PROVISION = { parallel: 10, maxPgConnections: 120 };
/**
 * (a): the operator holds Ready this long after the soju pod runs, so a group's provisioning
 * (CREATE DATABASE, soju start — same process, same PostgreSQL) is over before its setups run and
 * does not land in the measured latency. (b): bouncers are Ready before the worker starts anyway.
 */
const READY_DELAY = { latency: 1_500, migration: 50 };

const say = (line: string) =>
  console.log(`[bench:worker ${new Date().toISOString().slice(11, 19)}] ${line}`);
const pad = (n: number) => String(n).padStart(4, "0");
const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${pad(i + 1)}`);

// ---------------------------------------------------------------------------------------------
// Teardown: everything started is registered here and undone in reverse, also on failure/signal.
const undo: { what: string; fn: () => Promise<unknown> }[] = [];
const onTeardown = (what: string, fn: () => Promise<unknown>) => {
  const entry = { what, fn };
  undo.push(entry);
  return async () => {
    const i = undo.indexOf(entry);
    if (i >= 0) undo.splice(i, 1);
    await fn();
  };
};
let tearingDown: Promise<void> | undefined;
const teardown = () =>
  (tearingDown ??= (async () => {
    for (const { what, fn } of undo.splice(0).reverse()) {
      await fn().catch((e: unknown) =>
        console.error(`teardown of ${what} failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
  })());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: tearing down…`);
    void teardown().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The worker in this process, wired exactly as main.ts does (wire() + Controller, production
// settings: SOJU_ADMIN=exec, ergo over the IRC oper session, LOG_LEVEL=info to a file).

interface InProcessWorker {
  w: Wiring;
  controller: Controller;
  stop(): Promise<void>;
}

function startInProcessWorker(
  stack: Stack,
  namespace: string,
  logFile: WriteStream,
): InProcessWorker {
  const config = loadWorkerConfig(
    stack.workerEnv(namespace, { ERGO_ADMIN_NICK: `bench-${namespace}`.slice(0, 30) }),
  );
  const log = createLogger(config.LOG_LEVEL, "worker", logFile);
  const w = wire(config, log);
  const metrics = createWorkerMetrics(createMetricsRegistry());
  const controller = new Controller({
    deps: w.deps,
    kubeConfig: w.kube.kubeConfig,
    namespace,
    accountsDb: w.db,
    metrics,
    tenantUrls: w.tenantUrls,
    verifyIntervalMs: config.VERIFY_INTERVAL_S * 1000,
    concurrency: opts.concurrency,
  });
  const stop = onTeardown(`worker in ${namespace}`, async () => {
    await controller.stop();
    await w.close();
  });
  return { w, controller, stop };
}

/** Step durations of setups: all samples per step, and per bouncer (to explain the slowest). */
class StepTimes {
  readonly byStep: Record<string, number[]> = {};
  /** Lock acquisitions that found the lock taken: by a setup (it ends `busy` and is retried)… */
  busy = 0;
  /** …or by the controller's stale-attempt sweep, meeting a setup in flight (expected). */
  sweepMetRunning = 0;
  readonly byBouncer = new Map<string, Record<string, number>>();

  add(bouncer: string, step: string, ms: number): void {
    (this.byStep[step] ??= []).push(ms);
    const b = this.byBouncer.get(bouncer) ?? {};
    b[step] = Math.round(((b[step] ?? 0) + ms) * 10) / 10;
    this.byBouncer.set(bouncer, b);
  }

  summary() {
    return Object.fromEntries(
      Object.entries(this.byStep).map(([k, v]) => [
        k,
        { p50Ms: summarize(v).p50Ms, p99Ms: summarize(v).p99Ms, meanMs: summarize(v).meanMs },
      ]),
    );
  }

  /** The `n` slowest of `latencies` (bouncer → ms) with their steps. */
  slowest(latencies: Map<string, number>, n = 3) {
    return [...latencies]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([bouncer, ms]) => ({
        bouncer,
        ms: Math.round(ms * 10) / 10,
        steps: this.byBouncer.get(bouncer) ?? {},
      }));
  }
}

/**
 * Observes the worker's own step transitions (its SetupRecorder calls) and its setup locks to time
 * each step; the wrappers only read the clock. `detect` = Ready committed → the setup asks for its
 * lock (watch, queue, reconcile's GET); `lock` = the lock's acquisition (the worker opens a
 * PostgreSQL connection per setup) until the attempt is recorded; `lock_recheck` = its `pg_locks`
 * check right before the annotation (inside `annotate`); `lock_release` after the attempt ends.
 */
function traceSteps(
  w: Wiring,
  times: StepTimes,
  readyAt: (bouncer: string) => number | undefined,
  include: (bouncer: string) => boolean,
): void {
  const rec = w.deps.recorder;
  const locks = w.deps.locks;
  const nameOf = new Map<string, string>(); // uid → name
  const acquiring = new Map<string, number>(); // uid → when the setup asked for its lock
  const inFlight = new Set<string>(); // uids whose setup recorded its attempt and holds its lock
  const timed = (uid: string, step: string, t: number) => {
    const bouncer = nameOf.get(uid);
    if (bouncer !== undefined && include(bouncer)) times.add(bouncer, step, clock() - t);
  };
  w.deps.locks = {
    held: locks.held,
    async tryAcquire(uid) {
      const t = clock();
      const lock = await locks.tryAcquire(uid);
      if (!lock) {
        // One worker runs one reconcile per bouncer at a time: a taken lock of a setup in
        // flight is the sweep's look (closeStaleAttempts), anything else a setup finding it busy.
        if (inFlight.has(uid)) times.sweepMetRunning += 1;
        else times.busy += 1;
        return null;
      }
      acquiring.set(uid, t);
      return {
        lost: lock.lost,
        async assertHeld() {
          const t0 = clock();
          await lock.assertHeld();
          timed(uid, "lock_recheck", t0);
        },
        async release() {
          const t0 = clock();
          inFlight.delete(uid);
          await lock.release();
          timed(uid, "lock_release", t0);
        },
      };
    },
  };
  // Steps are timed from the setup's own step transitions (onStep, as they start): its step
  // records are written behind it (step-log.ts), so their calls no longer mark the steps.
  const open = new Map<string, { step: string; at: number }>(); // bouncer → the step running
  const attemptOf = new Map<number, string>(); // attempt id → bouncer
  const close = (bouncer: string, now: number) => {
    const prev = open.get(bouncer);
    if (prev && include(bouncer)) times.add(bouncer, prev.step, now - prev.at);
    open.delete(bouncer);
  };
  w.deps.onStep = (step, ref) => {
    const now = clock();
    close(ref.name, now);
    if (step !== "done") open.set(ref.name, { step, at: now });
  };
  w.deps.recorder = {
    ...rec,
    async start(ref) {
      const t = clock();
      nameOf.set(ref.uid, ref.name);
      inFlight.add(ref.uid);
      const asked = acquiring.get(ref.uid);
      acquiring.delete(ref.uid);
      const ready = readyAt(ref.name);
      if (include(ref.name)) {
        if (ready !== undefined) times.add(ref.name, "detect", (asked ?? t) - ready);
        if (asked !== undefined) times.add(ref.name, "lock", t - asked);
      }
      const attempt = await rec.start(ref);
      attemptOf.set(attempt.id, ref.name);
      // Runs beside the first steps now (not on the critical path): reported, not summed.
      if (include(ref.name)) times.add(ref.name, "record_attempt", clock() - t);
      return attempt;
    },
    finish(id, outcome, step, error, durationMs) {
      const bouncer = attemptOf.get(id);
      if (bouncer !== undefined) close(bouncer, clock()); // a failure's last step
      attemptOf.delete(id);
      return rec.finish(id, outcome, step, error, durationMs);
    },
  };
}

const latencyMap = (tracker: Namespace["tracker"], list: readonly string[]) =>
  new Map(
    list.flatMap((n) => {
      const r = tracker.ready.get(n);
      const a = tracker.annotated.get(n);
      return r !== undefined && a !== undefined ? [[n, a - r] as [string, number]] : [];
    }),
  );

function floorClients(
  stack: Stack,
  namespace: string,
): { c: FloorClients; close: () => Promise<void> } {
  const config = loadWorkerConfig(
    stack.workerEnv(namespace, {
      ERGO_ADMIN_NICK: `bench-${namespace}`.slice(0, 30),
      LOG_LEVEL: "silent",
    }),
  );
  const w = wire(config, createLogger("silent"));
  const lockPool = createLockPool(config.DATABASE_URL, opts.concurrency);
  const close = onTeardown(`floor clients in ${namespace}`, async () => {
    await lockPool.end().catch(() => undefined);
    await w.close();
  });
  return {
    c: {
      w,
      namespace,
      upstreamAddr: config.SOJU_UPSTREAM_ADDR,
      network: config.SOJU_UPSTREAM_NETWORK,
      lockPool,
    },
    close,
  };
}

async function attemptsByOutcome(w: Wiring, namespace: string): Promise<Record<string, number>> {
  const a = accounts.bouncerSetupAttempts;
  const rows = await w.db
    .select({ outcome: a.outcome, n: count() })
    .from(a)
    .where(eq(a.namespace, namespace))
    .groupBy(a.outcome);
  return Object.fromEntries(rows.map((r) => [r.outcome ?? "unfinished", r.n]));
}

/** The attempts that did not succeed (first 20): which step, what error, how long. */
async function attemptFailures(w: Wiring, namespace: string) {
  const a = accounts.bouncerSetupAttempts;
  return w.db
    .select({
      bouncer: a.bouncer,
      attemptNo: a.attemptNo,
      outcome: a.outcome,
      step: a.stepReached,
      error: a.error,
      durationMs: a.durationMs,
    })
    .from(a)
    .where(and(eq(a.namespace, namespace), ne(a.outcome, "succeeded")))
    .orderBy(a.id)
    .limit(20);
}

async function openNs(
  stack: Stack,
  name: string,
  readyDelayMs: number,
  onReady?: (bouncer: SojuBouncer) => void,
): Promise<Namespace> {
  const ns = await openNamespace(stack.peers, name, readyDelayMs, onReady);
  onTeardown(`namespace ${name}`, () => closeNamespace(stack.peers, ns, stack.pgConnections));
  return ns;
}
async function closeNs(stack: Stack, ns: Namespace): Promise<RequestsPerBouncer> {
  const i = undo.findIndex((u) => u.what === `namespace ${ns.name}`);
  if (i >= 0) undo.splice(i, 1);
  return closeNamespace(stack.peers, ns, stack.pgConnections);
}

// ---------------------------------------------------------------------------------------------
// (a) Ready → annotated. Bouncers are created `concurrency` at a time; the next group starts when
// the previous one is annotated and its setup has fully ended (worker: queue idle, i.e. after
// step 6 too). So this is latency without queueing; (b) measures throughput.

async function latencyPhase(stack: Stack, logFile: WriteStream) {
  const batch = opts.concurrency;
  const measure = async (ns: Namespace, list: string[], quiet: () => Promise<void>) => {
    const owners = await stack.ownerIds(list);
    for (const group of chunks(list, batch)) {
      await createBouncers(stack.peers, ns, group, owners);
      await until(
        () => group.every((n) => ns.tracker.annotated.has(n)),
        `annotation of ${group.join(", ")}`,
        180_000,
      );
      await sleep(50);
      await quiet();
    }
  };

  // Two floors: today's three exec round trips for the soju step (the floor the one-round-trip
  // setup is measured against, issue 17), and one (the floor of the worker's own overhead).
  const floorSeries = async (nsName: string, prefix: string, sojuRoundTrips: 1 | 3) => {
    say(
      `(a) floor (${sojuRoundTrips} soju round trips): ${opts.warmup} warm-up + ${opts.latencyCount} bouncers, groups of ${batch}`,
    );
    const floor = floorClients(stack, nsName);
    floor.c.sojuRoundTrips = sojuRoundTrips;
    const limiter = createLimiter(opts.concurrency);
    const floorErrors: string[] = [];
    const floorSteps = new StepTimes();
    const floorNs = await openNs(stack, nsName, READY_DELAY.latency, (bouncer) => {
      const name = bouncer.metadata.name;
      void limiter
        .run(() =>
          floorSetup(
            floor.c,
            bouncer,
            name.startsWith(`${prefix}w`)
              ? undefined
              : (step, ms) => floorSteps.add(name, step, ms),
          ),
        )
        .catch((e: unknown) =>
          floorErrors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`),
        );
    });
    const floorPeak = pgPeak(stack);
    await measure(floorNs, names(`${prefix}w`, opts.warmup), () => limiter.idle());
    const floorNames = names(prefix, opts.latencyCount);
    await measure(floorNs, floorNames, () => limiter.idle());
    const floorLat = summarize(floorNs.tracker.latencies(floorNames));
    const floorPg = await floorPeak.stop();
    if (floorErrors.length)
      throw new Error(`floor setups failed: ${floorErrors.slice(0, 5).join("; ")}`);
    await floor.close();
    const slowest = floorSteps.slowest(latencyMap(floorNs.tracker, floorNames));
    const apiRequests = await closeNs(stack, floorNs);
    say(`(a) floor (${sojuRoundTrips}): p50 ${floorLat.p50Ms} ms, p99 ${floorLat.p99Ms} ms`);
    return { floorLat, floorSteps, floorPg, slowest, apiRequests };
  };
  const {
    floorLat,
    floorSteps,
    floorPg,
    slowest: floorSlowest,
    apiRequests: floorApi,
  } = await floorSeries("bench-lat-floor", "lf", 3);
  const one = await floorSeries("bench-lat-floor1", "lo", 1);

  say(`(a) worker: ${opts.warmup} warm-up + ${opts.latencyCount} bouncers, groups of ${batch}`);
  const ns = await openNs(stack, "bench-lat-worker", READY_DELAY.latency);
  const worker = startInProcessWorker(stack, ns.name, logFile);
  const workerSteps = new StepTimes();
  traceSteps(
    worker.w,
    workerSteps,
    (b) => ns.tracker.ready.get(b),
    (b) => !b.startsWith("lww"),
  );
  worker.controller.start();
  await until(() => worker.controller.watcher.synced, "the worker's first list", 30_000);
  const workerPeak = pgPeak(stack);
  await measure(ns, names("lww", opts.warmup), () => worker.controller.idle());
  const workerNames = names("lw", opts.latencyCount);
  await measure(ns, workerNames, () => worker.controller.idle());
  const workerLat = summarize(ns.tracker.latencies(workerNames));
  const workerPg = await workerPeak.stop();
  const attempts = await attemptsByOutcome(worker.w, ns.name);
  const failures = await attemptFailures(worker.w, ns.name);
  await worker.stop();
  const workerApi = await closeNs(stack, ns);
  say(`(a) worker: p50 ${workerLat.p50Ms} ms, p99 ${workerLat.p99Ms} ms`);

  const r50 = ratio(workerLat.p50Ms, floorLat.p50Ms);
  const r99 = ratio(workerLat.p99Ms, floorLat.p99Ms);
  const o50 = ratio(workerLat.p50Ms, one.floorLat.p50Ms);
  const o99 = ratio(workerLat.p99Ms, one.floorLat.p99Ms);
  return {
    bouncers: opts.latencyCount,
    warmupDiscarded: opts.warmup,
    groupSize: batch,
    concurrency: opts.concurrency,
    measured:
      "Ready=True commit → irc.now/upstream-configured commit, both timestamped in the Kubernetes API stand-in",
    worker: workerLat,
    floor: floorLat,
    floorIs: "today's wire floor: the soju step as three sequential exec round trips",
    ratioP50: r50,
    ratioP99: r99,
    target: "p50 ≤ 0.6× today's three-exec floor (issue 17)",
    met: r50 <= 0.6,
    oneRoundTripFloor: one.floorLat,
    overheadRatioP50: o50,
    overheadRatioP99: o99,
    overheadTarget: "≤ 1.3× the one-round-trip floor (p50 and p99): the old ratio, same wire work",
    overheadMet: o50 <= 1.3 && o99 <= 1.3,
    workerAttempts: attempts,
    workerFailures: failures,
    workerLockTaken: { setups: workerSteps.busy, staleSweep: workerSteps.sweepMetRunning },
    stepsMs: {
      worker: workerSteps.summary(),
      floor: floorSteps.summary(),
      oneRoundTripFloor: one.floorSteps.summary(),
    },
    slowest: {
      worker: workerSteps.slowest(latencyMap(ns.tracker, workerNames)),
      floor: floorSlowest,
    },
    peakPgConnections: { floor: floorPg, oneRoundTripFloor: one.floorPg, worker: workerPg },
    apiRequestsPerBouncer: {
      worker: workerApi,
      floor: floorApi,
      oneRoundTripFloor: one.apiRequests,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// (b) Start-up migration: N Ready, unannotated bouncers exist, then the worker starts.

async function migrationPhase(stack: Stack, logFile: WriteStream, run = 0) {
  const n = opts.migrationCount;
  // Fresh names per run: every setup stays a new user's first (no Secret, no ergo account).
  const tag = String.fromCharCode(97 + run);
  const progress = (what: string) => (done: number) => {
    if (done % 100 === 0 || done === n) say(`(b) ${what}: ${done}/${n} Ready`);
  };

  // Floor first, then the worker: each on its own N bouncers, provisioned (all Ready) before the clock starts.
  say(`(b) floor: provisioning ${n} Ready bouncers`);
  const floorNs = await openNs(stack, "bench-mig-floor", READY_DELAY.migration);
  const floorNames = names(`mf${tag}`, n);
  await provision(stack.peers, floorNs, floorNames, {
    ...PROVISION,
    owners: await stack.ownerIds(floorNames),
    pgConnections: stack.pgConnections,
    onProgress: progress("floor"),
  });
  await until(
    async () => (await stack.pgConnections()) < 40,
    "idle soju pool connections to close",
    30_000,
    250,
  );
  const floor = floorClients(stack, floorNs.name);
  // The same wire work as the worker: the soju step in one round trip.
  floor.c.sojuRoundTrips = 1;
  const limiter = createLimiter(opts.concurrency);
  const floorPeak = pgPeak(stack);
  const serviceMs: number[] = [];
  const floorSteps = new StepTimes();
  const f0 = clock();
  if (process.env.BENCH_DIAG) say(`DIAG f0 ${process.hrtime.bigint() / 1000n}`);
  // Like the worker's first list: one LIST, then the Ready, unannotated ones.
  const listed = (await floor.c.w.bouncers.list()).items;
  const floorListMs = clock() - f0;
  await Promise.all(
    listed.map((bouncer) =>
      limiter.run(async () => {
        const name = bouncer.metadata.name;
        const s = clock();
        await floorSetup(floor.c, bouncer, (step, ms) => floorSteps.add(name, step, ms));
        serviceMs.push(clock() - s);
      }),
    ),
  );
  const f1 = Math.max(...floorNames.map((x) => floorNs.tracker.annotated.get(x) ?? Number.NaN));
  if (process.env.BENCH_DIAG) say(`DIAG f1 ${process.hrtime.bigint() / 1000n}`);
  const floorPg = await floorPeak.stop();
  const floorSeconds = (f1 - f0) / 1000;
  await floor.close();
  const floorApi = await closeNs(stack, floorNs);
  say(
    `(b) floor: ${n} in ${floorSeconds.toFixed(1)} s = ${(n / floorSeconds).toFixed(2)} bouncers/s`,
  );

  say(`(b) worker: provisioning ${n} Ready bouncers (no worker running)`);
  const ns = await openNs(stack, "bench-mig-worker", READY_DELAY.migration);
  const workerNames = names(`mw${tag}`, n);
  await provision(stack.peers, ns, workerNames, {
    ...PROVISION,
    owners: await stack.ownerIds(workerNames),
    pgConnections: stack.pgConnections,
    onProgress: progress("worker"),
  });
  await until(
    async () => (await stack.pgConnections()) < 40,
    "idle soju pool connections to close",
    30_000,
    250,
  );
  const worker = startInProcessWorker(stack, ns.name, logFile);
  const workerSteps = new StepTimes();
  traceSteps(
    worker.w,
    workerSteps,
    () => undefined,
    () => true,
  );
  const workerPeak = pgPeak(stack);
  const w0 = clock();
  if (process.env.BENCH_DIAG) say(`DIAG w0 ${process.hrtime.bigint() / 1000n}`);
  worker.controller.start();
  let last = 0;
  await until(
    () => {
      const done = ns.tracker.annotated.size;
      if (done - last >= 100) say(`(b) worker: ${(last = done - (done % 100))}/${n} annotated`);
      return done >= n;
    },
    `${n} annotations`,
    60 * 60_000,
    50,
  );
  const w1 = Math.max(...workerNames.map((x) => ns.tracker.annotated.get(x) ?? Number.NaN));
  if (process.env.BENCH_DIAG) say(`DIAG w1 ${process.hrtime.bigint() / 1000n}`);
  await sleep(100);
  await worker.controller.idle();
  const wIdle = clock();
  const workerPg = await workerPeak.stop();
  const attempts = await attemptsByOutcome(worker.w, ns.name);
  const failures = await attemptFailures(worker.w, ns.name);
  await worker.stop();
  const workerApi = await closeNs(stack, ns);
  const workerSeconds = (w1 - w0) / 1000;
  say(
    `(b) worker: ${n} in ${workerSeconds.toFixed(1)} s = ${(n / workerSeconds).toFixed(2)} bouncers/s`,
  );

  const floorRate = n / floorSeconds;
  const workerRate = n / workerSeconds;
  const r = ratio(workerRate, floorRate);
  return {
    bouncers: n,
    concurrency: opts.concurrency,
    measured:
      "worker: Controller.start() → last annotation committed; floor: first call → last annotation committed",
    worker: {
      seconds: Math.round(workerSeconds * 100) / 100,
      bouncersPerSecond: Math.round(workerRate * 100) / 100,
      secondsUntilQueueIdle: Math.round(((wIdle - w0) / 1000) * 100) / 100,
      attempts,
      failures,
      lockTaken: { setups: workerSteps.busy, staleSweep: workerSteps.sweepMetRunning },
    },
    floor: {
      seconds: Math.round(floorSeconds * 100) / 100,
      bouncersPerSecond: Math.round(floorRate * 100) / 100,
      listMs: Math.round(floorListMs * 10) / 10,
      perBouncer: summarize(serviceMs),
    },
    ratio: r,
    target: "≥ 0.8× floor",
    met: r >= 0.8,
    stepsMs: { worker: workerSteps.summary(), floor: floorSteps.summary() },
    peakPgConnections: { floor: floorPg, worker: workerPg },
    apiRequestsPerBouncer: { worker: workerApi, floor: floorApi },
  };
}

// ---------------------------------------------------------------------------------------------
// (c) RSS of the worker process with 10,000 SojuBouncers (not Ready: no setup runs; since
// ba37d35 none is queued either, so what is left is the list, the projection and the loops).

async function rssPhase(stack: Stack) {
  const measure = async (namespace: string, sampleForMs: number) => {
    const proc = await startWorkerProcess(
      repoRoot,
      stack.workerEnv(namespace, {
        ERGO_ADMIN_NICK: `bench-${namespace}`.slice(0, 30),
        LEASE_NAME: "bench-worker",
      }),
    );
    const stop = onTeardown(`worker process (${namespace})`, () => proc.stop());
    const t0 = clock();
    await waitSynced(proc, 120_000);
    const syncedAfterMs = Math.round(clock() - t0);
    await sleep(5_000);
    const afterList = await procMemory(proc.child.pid!);
    let maxRss = afterList.rssMB;
    let last: ProcMemory = afterList;
    const end = Date.now() + sampleForMs;
    while (Date.now() < end) {
      await sleep(500);
      last = await procMemory(proc.child.pid!);
      maxRss = Math.max(maxRss, last.rssMB);
    }
    await stop();
    return {
      syncedAfterMs,
      afterListPlus5sMB: afterList.rssMB,
      maxSampledMB: maxRss,
      endMB: last.rssMB,
      peakHwmMB: last.hwmMB,
    };
  };

  say("(c) baseline: worker process, empty namespace");
  const baseline = await measure("bench-rss-empty", 10_000);
  say(`(c) creating ${opts.rssCrs} SojuBouncers (not Ready) and their owners`);
  const rssNames = Array.from(
    { length: opts.rssCrs },
    (_, i) => `r${String(i + 1).padStart(5, "0")}`,
  );
  const owners = await stack.ownerIds(rssNames);
  for (const batch of chunks(rssNames, 1000))
    await stack.peers.call({
      op: "create",
      ns: "bench-rss",
      items: batch.map((name) => ({ name, ownerId: owners.get(name)! })),
    });
  say(`(c) worker process with ${opts.rssCrs} SojuBouncers`);
  const loaded = await measure("bench-rss", 25_000);
  return {
    crs: opts.rssCrs,
    command: `node ${workerNodeArgs.join(" ")}`,
    baseline,
    loaded,
    target: "≤ 200 MB",
    figureMB: loaded.peakHwmMB,
    figureIs: "VmHWM (peak RSS since process start) after list + 30 s",
    met: loaded.peakHwmMB <= 200,
    note: "The worker keeps no informer cache of objects: its watcher lists, queues the names of the bouncers that can need work (deleting, or Ready without the annotation: none of these 10,000) and drops the list; reconcile GETs each queued object again. What it holds is the list while it is processed, the keyed queue of names and the transient per-object GETs.",
  };
}

// ---------------------------------------------------------------------------------------------

/** The machine's 1-minute load average when each phase started and ended (other jobs show here). */
const load: Record<string, { start: number; end: number }> = {};
async function underLoad<T>(phase: string, run: () => Promise<T>): Promise<T> {
  const start = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const result = await run();
  load[phase] = { start, end: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
  return result;
}

async function main(): Promise<void> {
  const started = new Date();
  say(`node ${process.version}, ${cpus().length} CPUs, phases: ${[...opts.phases].join(", ")}`);
  const stack = await startSplitStack(
    [
      "bench-lat-floor",
      "bench-lat-floor1",
      "bench-lat-worker",
      "bench-mig-floor",
      "bench-mig-worker",
      "bench-rss-empty",
      "bench-rss",
    ],
    (l) => console.error(l),
  );
  onTeardown("stand-ins and PostgreSQL", () => stack.stop());
  const logPath = join(stack.dir, "worker.log");
  const logFile = createWriteStream(logPath);
  onTeardown("worker log", () => new Promise((r) => logFile.end(r)));

  let latency: Awaited<ReturnType<typeof latencyPhase>> | undefined;
  let migration:
    | (Awaited<ReturnType<typeof migrationPhase>> & { ratiosOfRuns: number[]; medianOf: number })
    | undefined;
  let rss: Awaited<ReturnType<typeof rssPhase>> | undefined;
  try {
    if (opts.phases.has("latency"))
      latency = await underLoad("latency", () => latencyPhase(stack, logFile));
    if (opts.phases.has("migration")) {
      // Noisy on a shared machine (0.72× and 0.87× in two runs before): the median of several.
      const runs: Awaited<ReturnType<typeof migrationPhase>>[] = [];
      for (let run = 0; run < opts.migrationRuns; run++) {
        say(`(b) run ${run + 1} of ${opts.migrationRuns}`);
        runs.push(
          await underLoad(`migration${run + 1}`, () => migrationPhase(stack, logFile, run)),
        );
      }
      const sorted = [...runs].sort((a, b) => a.ratio - b.ratio);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      migration = {
        ...median,
        ratiosOfRuns: runs.map((r) => r.ratio),
        medianOf: runs.length,
        met: median.ratio >= 0.8,
      };
    }
    if (opts.phases.has("rss")) rss = await underLoad("rss", () => rssPhase(stack));
  } catch (error) {
    const tail = (await readFile(logPath, "utf8").catch(() => ""))
      .split("\n")
      .slice(-30)
      .join("\n");
    console.error(`worker log (last lines):\n${tail}`);
    throw error;
  }

  const result = {
    benchmark: "worker",
    date: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    loadavg1m: load,
    memoryMB: Math.round(totalmem() / 2 ** 20),
    settings: {
      concurrency: opts.concurrency,
      setup: { ...defaultSetupSettings },
      retryBaseMs: 2_000,
      sojuAdmin: "exec (sojuctl via client-node Exec)",
      ergoAdmin: "IRC oper session (irc-framework) + SASL probe",
      logLevel: "info (to a file)",
      operatorReadyDelayMs: READY_DELAY,
      provisioning: PROVISION,
    },
    latency: latency ?? null,
    migration: migration ?? null,
    rss: rss ?? null,
    note: [
      "The worker (in (a) and (b)) and the floor script run in the bench process; the stand-ins (Kubernetes API, the simulated operators and every bouncer's soju) run in a peers process of their own (tooling/bench/src/worker/peers-host.ts) and ergo's in a further one (ergo-host.ts, since 2026-12-01), as ergo, soju and the API server are other processes in production; PostgreSQL is its own processes; the RSS worker is its own process. All on one 2-core machine. Before 2026-12-01 the stand-ins shared the bench process, so the worker's work side by side waited for their CPU.",
      "Numbers are noisy on a shared 2-core machine: run twice and compare.",
      "The floor (tooling/bench/src/worker/floor.ts) is issued with the worker's own clients (wire()) so ratios show the worker's overhead, not a client's: setup lock (advisory lock on a kept-open connection), {name}-db, one tenant-DB SELECT, credential Secret read/create (+ the owner's bouncers, label-selected, when there is no Secret), ownership lookup, SAREGISTER + claim, SASL check, three soju commands, annotation with its uid+resourceVersion precondition, unlock. No attempt recording, no step-6 verification, no retries.",
      "Every bouncer has its own new user (no credential Secret, no ergo account): each setup is a user's first.",
      ...(process.env.BENCH_NOTE ? [process.env.BENCH_NOTE] : []),
    ],
  };
  await mkdir(dirname(resultsFile), { recursive: true });
  await writeFile(resultsFile, JSON.stringify(result, null, 2) + "\n");
  printTable(result.latency, result.migration, result.rss);
  say(`wrote ${resultsFile}`);
}

function printTable(
  latency: {
    worker: Summary;
    floor: Summary;
    oneRoundTripFloor: Summary;
    ratioP50: number;
    overheadRatioP50: number;
    overheadRatioP99: number;
    met: boolean;
    bouncers: number;
  } | null,
  migration: {
    worker: { bouncersPerSecond: number };
    floor: { bouncersPerSecond: number };
    ratio: number;
    met: boolean;
    bouncers: number;
    medianOf: number;
  } | null,
  rss: { figureMB: number; baseline: { peakHwmMB: number }; met: boolean; crs: number } | null,
): void {
  const rows: string[][] = [["figure", "worker", "floor", "ratio", "target", "met"]];
  if (latency) {
    rows.push([
      `(a) Ready→annotated p50 vs three-exec floor, n=${latency.bouncers}`,
      `${latency.worker.p50Ms} ms`,
      `${latency.floor.p50Ms} ms`,
      `${latency.ratioP50}×`,
      "≤ 0.6×",
      String(latency.ratioP50 <= 0.6),
    ]);
    rows.push([
      `(a) Ready→annotated p50 vs one-round-trip floor`,
      `${latency.worker.p50Ms} ms`,
      `${latency.oneRoundTripFloor.p50Ms} ms`,
      `${latency.overheadRatioP50}×`,
      "≤ 1.3×",
      String(latency.overheadRatioP50 <= 1.3),
    ]);
    rows.push([
      `(a) Ready→annotated p99 vs one-round-trip floor`,
      `${latency.worker.p99Ms} ms`,
      `${latency.oneRoundTripFloor.p99Ms} ms`,
      `${latency.overheadRatioP99}×`,
      "≤ 1.3×",
      String(latency.overheadRatioP99 <= 1.3),
    ]);
  }
  if (migration)
    rows.push([
      `(b) start-up migration, n=${migration.bouncers}, median of ${migration.medianOf}`,
      `${migration.worker.bouncersPerSecond}/s`,
      `${migration.floor.bouncersPerSecond}/s`,
      `${migration.ratio}×`,
      "≥ 0.8×",
      String(migration.met),
    ]);
  if (rss)
    rows.push([
      `(c) worker RSS peak, ${rss.crs} CRs`,
      `${rss.figureMB} MB`,
      `(0 CRs: ${rss.baseline.peakHwmMB} MB)`,
      "",
      "≤ 200 MB",
      String(rss.met),
    ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
}

main()
  .catch((error: unknown) => {
    console.error(
      "bench:worker failed:",
      error instanceof Error ? (error.stack ?? error.message) : error,
      // drizzle wraps the driver's error: its text is the cause.
      error instanceof Error && error.cause !== undefined ? `\ncause: ${String(error.cause)}` : "",
    );
    process.exitCode = 1;
  })
  .finally(async () => {
    await teardown();
    // Stand-in sockets or timers must not keep a finished bench alive.
    setTimeout(() => process.exit(), 500).unref();
  });
