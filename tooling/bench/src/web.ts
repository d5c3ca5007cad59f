/**
 * `npm run bench:web`: throughput and latency of `bouncer.mine` (a signed-in user with 20
 * bouncers in the cluster) beside a bare route handler returning static JSON, both served by
 * one production build (`next build && next start`) in the same run. Writes
 * bench-results/web.json (git-ignored). Speed is measured and reported, never asserted.
 *
 * Stand-ins: embedded PostgreSQL (migrated) and the Kubernetes API stand-in, seeded directly
 * (no operator, no worker, no Keycloak: an existing JWT session never contacts the issuer).
 *
 * static and bouncer.mine are measured in alternating rounds (BENCH_ROUNDS, 3) and reported per
 * round and as median ratios; the Kubernetes fallback once, before the projection is vouched for.
 *
 * Settings (env): BENCH_CONNECTIONS (10), BENCH_DURATION_S (15), BENCH_WARMUP_S (5),
 * BENCH_REBUILD=1 to force `next build`. For profiling: BENCH_NODE_ARGS for the `next start`
 * process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/web-prof") and BENCH_ONLY=bouncer.mine.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAccountsDb } from "@irc-now/db";
import { freePort } from "@irc-now/db/testing";
import { startAccountsDb } from "./lib/accounts-db";
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  LABEL_MANAGED_BY,
  LABEL_OWNER,
  MANAGED_BY_PORTAL,
  projectedResource,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_KIND,
  type SojuBouncer,
} from "@irc-now/k8s";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import { Cleanup } from "./lib/cleanup";
import { mainThreadCpu, processTreeCpu, type CpuProbe } from "./lib/cpu";
import {
  intFromEnv,
  measure,
  round,
  type LoadSettings,
  type LoadTarget,
  type TargetFigures,
} from "./lib/load";
import { benchWebEnv, buildWeb, startNext, WEB_NODE_OPTIONS } from "./lib/next-app";
import { machine, printTable, writeResults } from "./lib/results";
import { sessionCookie } from "./lib/session";

const NAMESPACE = "irc-now";
const BOUNCERS = 20;
const TARGET_RATIO = 0.5;
const TARGET_P99_RATIO = 2;

interface Round {
  static: TargetFigures;
  "bouncer.mine": TargetFigures;
  ratio: number;
  p99Ratio: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The figures of the round whose requests/s is the median (the lower middle one if even). */
function medianRound(runs: TargetFigures[]): TargetFigures {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
const USER = {
  subject: "kc-bench-user",
  username: "benchuser",
  email: "benchuser@example.test",
  name: "Bench User",
};

const STATIC_PATH = "/api/bench/static";
// What the browser's httpBatchLink sends for `bouncer.mine` (void input, superjson-encoded).
const MINE_PATH = `/api/trpc/bouncer.mine?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { json: null, meta: { values: ["undefined"], v: 1 } } }))}`;

/** The user row as `recordLogin` leaves it after a first sign-in; returns its id. */
async function createUser(databaseUrl: string): Promise<string> {
  const db = createAccountsDb(databaseUrl, { max: 1 });
  try {
    const { rows } = await db.$client.query<{ id: string }>(
      `INSERT INTO users (keycloak_subject, username, email, display_name, last_login_at, login_count)
       VALUES ($1, $2, $3, $4, now(), 1)
       ON CONFLICT (keycloak_subject) DO UPDATE SET last_login_at = now(), login_count = users.login_count + 1, updated_at = now()
       RETURNING id`,
      [USER.subject, USER.username, USER.email, USER.name],
    );
    const id = rows[0]?.id;
    if (!id) throw new Error("creating the bench user returned no row");
    return id;
  } finally {
    await db.$client.end();
  }
}

const bouncerName = (i: number) => `bench-${String(i + 1).padStart(2, "0")}`;

/**
 * 20 SojuBouncers owned by the user, in a realistic mix: a quarter still provisioning, the rest
 * Ready; two thirds of those configured by the worker (with an upstream state row: mostly
 * authenticated), the others with a failed setup attempt. So `mine` reads both setup tables.
 */
async function seedBouncers(
  kube: KubeStandin,
  databaseUrl: string,
  ownerId: string,
): Promise<void> {
  const attempts: unknown[][] = [];
  const upstreams: unknown[][] = [];
  for (let i = 0; i < BOUNCERS; i++) {
    const name = bouncerName(i);
    const ready = i % 4 !== 0;
    const configured = ready && i % 3 !== 0;
    kube.objects.create("sojubouncers.irc.now", {
      apiVersion: SOJU_BOUNCER_API_VERSION,
      kind: SOJU_BOUNCER_KIND,
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: { [LABEL_OWNER]: ownerId, [LABEL_MANAGED_BY]: MANAGED_BY_PORTAL },
        ...(configured ? { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } } : {}),
      },
      spec: { username: USER.username, plan: "pro" },
    });
    if (!ready) continue;
    kube.objects.patch(
      "sojubouncers.irc.now",
      NAMESPACE,
      name,
      {
        status: {
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "Running",
              message: "soju is running",
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
      { subresource: "status" },
    );
    if (configured) {
      attempts.push([name, 1, "done", "succeeded", null]);
      upstreams.push([
        name,
        i % 5 === 0 ? "unauthenticated" : "authenticated",
        i % 5 === 0 ? null : USER.username,
      ]);
    } else {
      attempts.push([name, 1, "ensure_ergo_account", "failed", "ergo did not answer"]);
    }
  }
  const db = createAccountsDb(databaseUrl, { max: 1 });
  try {
    // The projection the worker's watch keeps (the read path when a worker vouches for it).
    for (const item of kube.objects.list("sojubouncers.irc.now", NAMESPACE).items) {
      const cr = item as unknown as SojuBouncer;
      await db.$client.query(
        `INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username, resource, resource_version)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
        [
          NAMESPACE,
          cr.metadata.name,
          cr.metadata.uid,
          ownerId,
          USER.username,
          JSON.stringify(projectedResource(cr)),
          cr.metadata.resourceVersion ?? null,
        ],
      );
    }
    for (const [bouncer, attemptNo, step, outcome, error] of attempts) {
      await db.$client.query(
        `INSERT INTO bouncer_setup_attempts (namespace, bouncer, attempt_no, step_reached, outcome, error, finished_at, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, now(), 1200)`,
        [NAMESPACE, bouncer, attemptNo, step, outcome, error],
      );
    }
    for (const [bouncer, state, account] of upstreams) {
      await db.$client.query(
        `INSERT INTO bouncer_upstream_states (namespace, bouncer, state, account) VALUES ($1, $2, $3, $4)`,
        [NAMESPACE, bouncer, state, account],
      );
    }
  } finally {
    await db.$client.end();
  }
}

/** Both endpoints answer 200 with what they should before any load is applied. */
async function verify(baseUrl: string, cookie: string): Promise<void> {
  const s = await fetch(baseUrl + STATIC_PATH);
  const staticBody = (await s.json()) as { ok?: boolean };
  if (s.status !== 200 || staticBody.ok !== true)
    throw new Error(`${STATIC_PATH} answered ${s.status} ${JSON.stringify(staticBody)}`);

  const m = await fetch(baseUrl + MINE_PATH, { headers: { cookie } });
  const text = await m.text();
  if (m.status !== 200) throw new Error(`bouncer.mine answered ${m.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as [
    { result?: { data?: { json?: { bouncers?: { name: string; phase: string }[] } } } },
  ];
  const bouncers = body[0]?.result?.data?.json?.bouncers;
  if (bouncers?.length !== BOUNCERS)
    throw new Error(
      `bouncer.mine returned ${bouncers?.length ?? "no"} bouncers, expected ${BOUNCERS}: ${text.slice(0, 500)}`,
    );
  const phases = new Map<string, number>();
  for (const b of bouncers) phases.set(b.phase, (phases.get(b.phase) ?? 0) + 1);
  const summary = [...phases].map(([phase, n]) => `${n} ${phase}`).join(", ");
  console.log(`bench: verified ${STATIC_PATH} and bouncer.mine (${BOUNCERS} bouncers: ${summary})`);

  const anonymous = await fetch(baseUrl + MINE_PATH);
  if (anonymous.status !== 401)
    throw new Error(`bouncer.mine without a session answered ${anonymous.status}, expected 401`);
}

async function main(): Promise<number> {
  const settings: LoadSettings = {
    connections: intFromEnv("BENCH_CONNECTIONS", 10),
    durationSeconds: intFromEnv("BENCH_DURATION_S", 15),
    warmupSeconds: intFromEnv("BENCH_WARMUP_S", 5),
  };
  const roundCount = intFromEnv("BENCH_ROUNDS", 3);
  await buildWeb();

  const cleanup = new Cleanup();
  try {
    const { databaseUrl, postmaster } = await startAccountsDb(cleanup);

    const kube = await startKubeStandin({ namespaces: [NAMESPACE] });
    cleanup.add("kube stand-in", () => kube.stop());
    const dir = await mkdtemp(join(tmpdir(), "irc-now-bench-"));
    cleanup.add("temp dir", () => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, "kubeconfig");
    await kube.writeKubeConfig(kubeconfig);

    const userId = await createUser(databaseUrl);
    await seedBouncers(kube, databaseUrl, userId);

    const authSecret = randomBytes(32).toString("base64url");
    const port = await freePort();
    const web = await startNext(
      cleanup,
      port,
      benchWebEnv(databaseUrl, port, authSecret, { KUBECONFIG: kubeconfig }),
      STATIC_PATH,
    );
    // What each worker replica does while its watch is healthy (projection_heartbeats).
    const heartbeatDb = createAccountsDb(databaseUrl, { max: 1 });
    cleanup.add("heartbeat DB pool", () => heartbeatDb.$client.end());
    const beat = () =>
      heartbeatDb.$client.query(
        `INSERT INTO projection_heartbeats (replica, synced_at) VALUES ('bench', now())
         ON CONFLICT (replica) DO UPDATE SET synced_at = now()`,
      );
    const vouchForProjection = async () => {
      await beat();
      const timer = setInterval(() => void beat(), 20_000);
      cleanup.add("heartbeat", async () => clearInterval(timer));
      // The web trusts its last freshness check for 5 s.
      await new Promise((r) => setTimeout(r, 5_500));
      await verify(web.url, cookie); // the same 20 bouncers, now from the projection
    };
    const cookie = await sessionCookie(userId, USER.username, authSecret, {
      sub: USER.subject,
      name: USER.name,
      email: USER.email,
    });
    await verify(web.url, cookie);

    const allTargets: LoadTarget[] = [
      { name: "static", baseUrl: web.url, path: STATIC_PATH },
      // No worker heartbeat yet: the web reads Kubernetes (the fallback path).
      { name: "bouncer.mine (kubernetes)", baseUrl: web.url, path: MINE_PATH, headers: { cookie } },
      // Then a heartbeat every 20 s, as a worker replica writes it: the projection path.
      { name: "bouncer.mine", baseUrl: web.url, path: MINE_PATH, headers: { cookie } },
    ];
    // BENCH_ONLY=bouncer.mine loads one target (e.g. while profiling); no result file then.
    const only = process.env.BENCH_ONLY;
    const targets = only ? allTargets.filter((t) => t.name === only) : allTargets;
    if (targets.length === 0)
      throw new Error(
        `BENCH_ONLY=${only} names no target (${allTargets.map((t) => t.name).join(", ")})`,
      );
    const before = machine();
    console.log(
      `bench: ${settings.connections} connections × ${settings.durationSeconds} s per target (after ${settings.warmupSeconds} s warm-up), ` +
        `${before.cpus} CPUs, load average ${before.loadavg1m}`,
    );
    // CPU per request of each process involved: the web server, PostgreSQL, and this process's
    // main thread, which serves the Kubernetes API stand-in (autocannon runs on its own thread).
    const probes: Record<string, CpuProbe> = { web: processTreeCpu(web.pid), kube: mainThreadCpu };
    if (postmaster !== null) probes.postgres = processTreeCpu(postmaster);
    const figures: Record<string, TargetFigures> = {};
    const rounds: Round[] = [];
    if (only) {
      for (const target of targets) {
        console.log(`bench: ${target.name}…`);
        if (target.name === "bouncer.mine") await vouchForProjection();
        figures[target.name] = await measure(target, settings, probes);
      }
      printTable(figures);
      return 0;
    }
    const [staticTarget, kubeTarget, mineTarget] = allTargets as [
      LoadTarget,
      LoadTarget,
      LoadTarget,
    ];
    // The Kubernetes fallback once, before any heartbeat.
    console.log(`bench: ${kubeTarget.name}…`);
    figures[kubeTarget.name] = await measure(kubeTarget, settings, probes);
    await vouchForProjection();
    // Static and bouncer.mine alternate, so a swing in the machine's load hits both.
    for (let i = 0; i < roundCount; i++) {
      console.log(`bench: round ${i + 1}/${roundCount}: static, then bouncer.mine…`);
      const bare = await measure(staticTarget, settings, probes);
      const mine = await measure(mineTarget, settings, probes);
      rounds.push({
        static: bare,
        "bouncer.mine": mine,
        ratio: round(mine.requestsPerSecond / bare.requestsPerSecond, 3),
        p99Ratio: round(mine.latencyP99Ms / Math.max(1, bare.latencyP99Ms), 3),
      });
    }
    const after = machine();

    const ratio = median(rounds.map((r) => r.ratio));
    const p99Ratio = median(rounds.map((r) => r.p99Ratio));
    // Each target's figures in the table and `targets`: its round of median throughput.
    figures.static = medianRound(rounds.map((r) => r.static));
    figures["bouncer.mine"] = medianRound(rounds.map((r) => r["bouncer.mine"]));
    const webCpuMine = median(rounds.map((r) => r["bouncer.mine"].cpuMsPerRequest.web ?? NaN));
    const webCpuStatic = median(rounds.map((r) => r.static.cpuMsPerRequest.web ?? NaN));
    const clean = [
      ...Object.values(figures),
      ...rounds.flatMap((r) => [r.static, r["bouncer.mine"]]),
    ].every((f) => f.errors === 0 && f.timeouts === 0 && f.non2xx === 0);
    const met = ratio >= TARGET_RATIO && p99Ratio <= TARGET_P99_RATIO;
    const results = {
      bench: "web",
      date: new Date().toISOString(),
      node: before.node,
      cpus: before.cpus,
      cpuModel: before.cpuModel,
      loadavg1m: { before: before.loadavg1m, after: after.loadavg1m },
      build: "next build && next start (production)",
      nodeOptions: WEB_NODE_OPTIONS,
      settings: { ...settings, pipelining: 1, bouncers: BOUNCERS, rounds: roundCount },
      targets: figures,
      rounds: rounds.map((r, i) => ({
        round: i + 1,
        staticRequestsPerSecond: r.static.requestsPerSecond,
        mineRequestsPerSecond: r["bouncer.mine"].requestsPerSecond,
        staticP99Ms: r.static.latencyP99Ms,
        mineP99Ms: r["bouncer.mine"].latencyP99Ms,
        staticWebCpuMs: r.static.cpuMsPerRequest.web,
        mineWebCpuMs: r["bouncer.mine"].cpuMsPerRequest.web,
        ratio: r.ratio,
        p99Ratio: r.p99Ratio,
      })),
      ratio,
      target: TARGET_RATIO,
      p99Ratio,
      p99Target: TARGET_P99_RATIO,
      met,
      /**
       * Web-process CPU per static request ÷ per bouncer.mine request: the ratio to expect when the
       * web server has a core to itself (PostgreSQL and the Kubernetes API elsewhere). Steadier than
       * `ratio` on a shared machine.
       */
      webCpuRatio:
        Number.isFinite(webCpuMine) && Number.isFinite(webCpuStatic)
          ? round(webCpuStatic / webCpuMine, 3)
          : null,
      /** false when any request failed: the figures then do not describe the normal path. */
      valid: clean,
      notes: {
        rounds:
          "static and bouncer.mine measured in alternating rounds (static, mine, static, mine…) with the same settings, so a swing in the machine's load hits both; the Kubernetes fallback is measured once, before the rounds",
        ratio:
          "the median over the rounds of (bouncer.mine requests/s ÷ static requests/s in the same round)",
        p99Ratio:
          "the median over the rounds of (bouncer.mine p99 ÷ static p99 in the same round); target ≤ 2",
        met: "ratio ≥ target and p99Ratio ≤ p99Target, both medians",
        targets:
          "static and bouncer.mine: each one's round of median requests/s; bouncer.mine (kubernetes): its single run",
        cpuMsPerRequest:
          "CPU ms per completed request during the measured run: web = the next start process tree, postgres = the embedded server, kube = the bench's main thread serving the Kubernetes API stand-in",
        webCpuRatio:
          "median static web CPU per request ÷ median bouncer.mine web CPU per request: the throughput ratio when the web server has a core to itself; steadier than ratio on a busy machine",
      },
    };
    const path = await writeResults("web", results);

    console.log("");
    printTable(figures);
    console.log("");
    for (const r of results.rounds)
      console.log(
        `round ${r.round}: static ${r.staticRequestsPerSecond} req/s p99 ${r.staticP99Ms} ms, bouncer.mine ${r.mineRequestsPerSecond} req/s p99 ${r.mineP99Ms} ms: ratio ${r.ratio}, p99 ratio ${r.p99Ratio}`,
      );
    console.log(
      `\nmedian bouncer.mine / static = ${ratio} (target ≥ ${TARGET_RATIO}), p99 ratio ${p99Ratio} (target ≤ ${TARGET_P99_RATIO}): ${met ? "met" : "NOT met"}`,
    );
    if (results.webCpuRatio !== null)
      console.log(`web-process CPU per request, static / bouncer.mine = ${results.webCpuRatio}`);
    console.log(`wrote ${path}`);
    if (!clean) {
      console.error(
        "bench: some requests failed (see errors/non2xx); next start said:\n" +
          web.output().slice(-2_000),
      );
      return 1;
    }
    return 0;
  } finally {
    await cleanup.run();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("bench failed:", error);
    process.exit(1);
  },
);
