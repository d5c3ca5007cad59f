/**
 * Worker loops at scale (issue 17, `npm run bench:worker-scale`; not a test). On the stand-ins:
 *  (v) the verifier: BENCH_VERIFY_BOUNCERS (10,000) configured SojuBouncers verified in one
 *      window of a short interval (BENCH_VERIFY_INTERVAL_S, 120), by the verifier alone in its
 *      own process (apps/worker wiring, SOJU_ADMIN=socket) so its CPU time is its own: does the
 *      window end within the interval, at what share of one core;
 *  (s) the soju metrics sweep over BENCH_SWEEP_TENANTS (default BENCH_SWEEP_DBS) tenants whose
 *      `{name}-db` secrets point at BENCH_SWEEP_DBS (1,000) real databases, round robin, against
 *      a bare floor at the same concurrency (per bouncer: read `{name}-db`, one pg connection,
 *      the same one statement, close), and the projection to 10,000 tenants against the 300 s
 *      interval. 10,000 real databases do not fit this machine's disk (each is a copy of the
 *      template, ~7.5 MB: ~75 GB), so the 10,000-tenant run (BENCH_SWEEP_TENANTS=10000) reaches
 *      each of 1,000 databases 10 times per sweep: the same wire work per tenant (secret, TCP
 *      connection, authentication, a backend loading its catalog, the statement, close), with
 *      per-database catalog pages shared by 10 tenants instead of one.
 * Writes bench-results/worker-scale.json (BENCH_WORKER_SCALE_OUT elsewhere) and prints a table.
 *
 * What the verifier bench leaves out: every soju network is disabled (one soju stand-in holds
 * all 10,000 users; 10,000 live upstream logins are beyond this machine's stand-ins), so every
 * check is soju's `sasl status` (disconnected) + recording the state, without ergo's WHOIS.
 */
import { spawn } from "node:child_process";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createSojuSchemaForTests, createTestDatabase } from "@irc-now/db/testing";
import { readTenantDbUrl } from "@irc-now/k8s";
import { startSojuStandin } from "@irc-now/standins/soju";
import { loadWorkerConfig } from "../../../apps/worker/src/env";
import { createLogger } from "../../../apps/worker/src/logger";
import { createMetricsRegistry } from "../../../apps/worker/src/metrics/registry";
import { sweepTenants } from "../../../apps/worker/src/metrics/tenant-sweep";
import { createWorkerMetrics } from "../../../apps/worker/src/metrics/worker-metrics";
import { wire } from "../../../apps/worker/src/wiring";
import { resultsPath } from "./lib/results";
import { ANNOTATION_UPSTREAM_CONFIGURED, LABEL_OWNER } from "@irc-now/k8s";
import { CR, startStack, type LocalStack as Stack } from "./worker/stack";
import { chunks, createLimiter, ratio } from "./worker/stats";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const int = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
};
const opts = {
  verifyBouncers: int("BENCH_VERIFY_BOUNCERS", 10_000),
  verifyIntervalS: int("BENCH_VERIFY_INTERVAL_S", 120),
  verifyConcurrency: int("BENCH_VERIFY_CONCURRENCY", 8),
  sweepDbs: int("BENCH_SWEEP_DBS", 1_000),
  sweepTenants: int("BENCH_SWEEP_TENANTS", int("BENCH_SWEEP_DBS", 1_000)),
  sweepConcurrency: int("BENCH_SWEEP_CONCURRENCY", 8),
  phases: new Set((process.env.BENCH_PHASES ?? "verifier,sweep").split(",").map((s) => s.trim())),
};
const out = process.env.BENCH_WORKER_SCALE_OUT
  ? resolve(process.env.BENCH_WORKER_SCALE_OUT)
  : resultsPath("worker-scale");
const say = (line: string) =>
  console.log(`[bench:worker-scale ${new Date().toISOString().slice(11, 19)}] ${line}`);
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** `users` soju users, each with a disabled `irc.now` network holding SASL PLAIN credentials. */
async function seedSojuDb(url: string, usernames: string[]): Promise<void> {
  await createSojuSchemaForTests(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (const batch of chunks(usernames, 1000)) {
      await c.query(
        `WITH u AS (INSERT INTO "User" (username) SELECT unnest($1::text[]) RETURNING id, username)
         INSERT INTO "Network" ("user", name, addr, nick, username, enabled,
                                sasl_mechanism, sasl_plain_username, sasl_plain_password)
         SELECT id, 'irc.now', 'irc+insecure://127.0.0.1:1', username, username, false,
                'PLAIN'::sasl_mechanism, username, 'bench-pw'
           FROM u`,
        [batch],
      );
    }
  } finally {
    await c.end();
  }
}

function createCrs(stack: Stack, namespace: string, names: string[], owner: string): void {
  for (const name of names)
    stack.kube.objects.create(CR, {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: {
        name,
        namespace,
        labels: { [LABEL_OWNER]: owner },
        annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" },
      },
      spec: { username: name, plan: "free" },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
}

async function verifierPhase(stack: Stack) {
  const ns = "bench-scale-verify";
  const n = opts.verifyBouncers;
  const names = Array.from({ length: n }, (_, i) => `v${String(i + 1).padStart(5, "0")}`);
  say(`(v) seeding one soju stand-in with ${n} users and ${n} configured SojuBouncers`);
  const sojuDb = await createTestDatabase(stack.pg.url(), "bench_scale_soju");
  await seedSojuDb(sojuDb, names);
  const sockDir = join(stack.dir, "s");
  const soju = await startSojuStandin({
    databaseUrl: sojuDb,
    adminSocketPath: join(sockDir, "soju.sock"),
  });
  // SOJU_ADMIN_SOCKET <dir>/{name}: every bouncer's socket is the one stand-in's.
  for (const batch of chunks(names, 500))
    await Promise.all(
      batch.map((name) => symlink(join(sockDir, "soju.sock"), join(sockDir, name))),
    );
  const [owner] = (await stack.ownerIds(["bench-scale-owner"])).values();
  createCrs(stack, ns, names, owner!);

  const env = stack.workerEnv(ns, {
    SOJU_ADMIN: "socket",
    SOJU_ADMIN_SOCKET: join(sockDir, "{name}"),
    LOG_LEVEL: "warn",
    BENCH_VERIFY_INTERVAL_MS: String(opts.verifyIntervalS * 1000),
    BENCH_VERIFY_CONCURRENCY: String(opts.verifyConcurrency),
  });
  say(`(v) verifier process: one window of ${opts.verifyIntervalS} s over ${n} bouncers`);
  const load0 = loadavg()[0] ?? 0;
  const line = await new Promise<string>((resolveLine, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repoRoot, "tooling/bench/src/scale/verifier-child.ts")],
      { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] },
    );
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolveLine(stdout.trim()) : reject(new Error(`verifier exited ${code}`)),
    );
  });
  await soju.stop();
  await rm(sockDir, { recursive: true, force: true });
  const r = JSON.parse(line.split("\n").pop()!) as {
    report: {
      checked: number;
      counts: Record<string, number>;
      timeouts: number;
      maxLagMs: number;
      durationMs: number;
      overrunMs: number;
    };
    wallMs: number;
    cpuMs: number;
    rssMB: number;
  };
  const coreShare = r.cpuMs / r.wallMs;
  return {
    bouncers: n,
    intervalS: opts.verifyIntervalS,
    concurrency: opts.verifyConcurrency,
    sojuAdmin: "socket (one soju stand-in behind every bouncer's socket path)",
    window: r.report,
    wallMs: round(r.wallMs),
    processCpuMs: round(r.cpuMs),
    cpuShareOfOneCore: round(coreShare, 3),
    cpuMsPerCheck: round(r.cpuMs / Math.max(1, r.report.checked), 2),
    rssMB: round(r.rssMB),
    // Every slot lies inside the interval; the last check may end a few ms after it.
    withinInterval: r.report.overrunMs <= 1_000,
    target: "all verified within one interval (overrun ≤ 1 s), ≤ 25% of one core",
    met: r.report.overrunMs <= 1_000 && coreShare <= 0.25,
    // One window verifies every bouncer once, whatever its length: the same CPU spread over
    // another interval.
    cpuShareOfOneCoreIfIntervalS: Object.fromEntries(
      [60, 120, 300].map((sec) => [sec, round(r.cpuMs / (sec * 1000), 3)]),
    ),
    loadavg1m: { start: round(load0, 2), end: round(loadavg()[0] ?? 0, 2) },
    leftOut: "networks disabled: no ergo WHOIS per check (see the file's comment)",
  };
}

async function sweepPhase(stack: Stack) {
  const ns = "bench-scale-sweep";
  const n = opts.sweepTenants;
  const dbs = Math.min(opts.sweepDbs, n);
  const names = Array.from({ length: n }, (_, i) => `t${String(i + 1).padStart(5, "0")}`);
  say(
    `(s) creating ${dbs} tenant DBs (from a seeded template) and ${n} tenants' {name}-db secrets`,
  );
  const admin = new pg.Client({ connectionString: stack.pg.url() });
  await admin.connect();
  const template = await createTestDatabase(stack.pg.url(), "bench_scale_tpl");
  await seedSojuDb(
    template,
    Array.from({ length: 3 }, (_, i) => `tpl${i}`),
  );
  const tplName = new URL(template).pathname.slice(1);
  const urls: string[] = [];
  for (const name of names.slice(0, dbs)) {
    const db = `bench_sweep_${name}`;
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.query(`CREATE DATABASE ${db} TEMPLATE ${tplName}`);
    const u = new URL(template);
    u.pathname = `/${db}`;
    urls.push(u.toString());
  }
  await admin.end();
  const [owner] = (await stack.ownerIds(["bench-sweep-owner"])).values();
  createCrs(stack, ns, names, owner!);
  names.forEach((name, i) =>
    stack.kube.objects.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-db`, namespace: ns },
      data: { uri: Buffer.from(urls[i % dbs]!).toString("base64") },
    }),
  );

  const config = loadWorkerConfig(stack.workerEnv(ns, { LOG_LEVEL: "silent" }));
  const w = wire(config, createLogger("silent"));
  const c = opts.sweepConcurrency;
  const COUNTS = `SELECT (SELECT count(*) FROM "Network"), (SELECT count(*) FROM "Channel"),
    (SELECT count(*) FROM "Message"),
    (SELECT count(*) FROM "User" WHERE downstream_interacted_at >= now() - interval '24 hours')`;
  const runs: { floorMs: number; workerMs: number }[] = [];
  for (let run = 0; run < 3; run++) {
    // Floor: per bouncer, the bare wire work: its secret, one connection, the statement, close.
    const limiter = createLimiter(c);
    const f0 = performance.now();
    await Promise.all(
      names.map((name) =>
        limiter.run(async () => {
          const url = await readTenantDbUrl(w.kube.core, ns, name);
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(COUNTS);
          await client.end();
        }),
      ),
    );
    const floorMs = performance.now() - f0;
    const metrics = createWorkerMetrics(createMetricsRegistry());
    const s0 = performance.now();
    const report = await sweepTenants(w.tenantUrls, metrics, { concurrency: c });
    const workerMs = performance.now() - s0;
    if (report.failed > 0) throw new Error(`sweep: ${report.failed} tenant DBs failed`);
    runs.push({ floorMs: round(floorMs), workerMs: round(workerMs) });
    say(
      `(s) run ${run + 1}: floor ${round(floorMs / 1000, 2)} s, sweep ${round(workerMs / 1000, 2)} s`,
    );
  }
  await w.close();
  const ratios = runs.map((r) => ratio(r.workerMs, r.floorMs)).sort((a, b) => a - b);
  const median = ratios[1]!;
  const medianWorkerMs = [...runs.map((r) => r.workerMs)].sort((a, b) => a - b)[1]!;
  const projected10k = (medianWorkerMs / n) * 10_000;
  return {
    tenants: n,
    databases: dbs,
    concurrency: c,
    runs,
    ratios,
    medianRatio: median,
    target: "≤ 1.5× the bare floor at the same concurrency (median of 3)",
    met: median <= 1.5,
    msPerTenant: round(medianWorkerMs / n, 2),
    projectedSecondsAt10000: round(projected10k / 1000, 1),
    intervalS: 300,
    projectionWithinInterval: projected10k <= 300_000,
    projectionNote:
      n >= 10_000
        ? `measured: ${n} tenants swept (their secrets point at ${dbs} real databases, round robin: 10,000 copies of the template do not fit this disk)`
        : `10,000 tenants × the measured per-tenant time of this ${n}-tenant sweep (linear: one connection per tenant, a fixed concurrency); not run at 10,000 here`,
    ...(n >= 10_000
      ? {
          medianSweepSeconds: round(medianWorkerMs / 1000, 1),
          withinInterval: medianWorkerMs <= 300_000,
          intervalShare: round(medianWorkerMs / 300_000, 3),
        }
      : {}),
  };
}

async function main(): Promise<void> {
  const started = new Date();
  say(`node ${process.version}, ${cpus().length} CPUs, phases: ${[...opts.phases].join(", ")}`);
  const stack = await startStack(["bench-scale-verify", "bench-scale-sweep"], (l) =>
    console.error(l),
  );
  let verifier: Awaited<ReturnType<typeof verifierPhase>> | null = null;
  let sweep: Awaited<ReturnType<typeof sweepPhase>> | null = null;
  try {
    if (opts.phases.has("verifier")) verifier = await verifierPhase(stack);
    if (opts.phases.has("sweep")) sweep = await sweepPhase(stack);
  } finally {
    await stack.stop();
  }
  const result = {
    benchmark: "worker-scale",
    date: started.toISOString(),
    durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    verifier,
    sweep,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2) + "\n");
  if (verifier)
    say(
      `(v) ${verifier.bouncers} verified in ${round(verifier.window.durationMs / 1000, 1)} s of a ${verifier.intervalS} s window, max lag ${round(verifier.window.maxLagMs)} ms, CPU ${round(verifier.cpuShareOfOneCore * 100)}% of one core (target ≤ 25%: ${verifier.met})`,
    );
  if (sweep)
    say(
      `(s) sweep ${sweep.tenants} tenants over ${sweep.databases} DBs: median ${sweep.medianRatio}× the floor (target ≤ 1.5×: ${sweep.met}); ${sweep.tenants >= 10_000 ? "measured" : "projected"} at 10,000: ${sweep.projectedSecondsAt10000} s of 300 s`,
    );
  say(`wrote ${out}`);
}

main()
  .catch((error: unknown) => {
    console.error("bench:worker-scale failed:", error instanceof Error ? error.stack : error);
    process.exitCode = 1;
  })
  .finally(() => setTimeout(() => process.exit(), 500).unref());
