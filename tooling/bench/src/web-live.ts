/**
 * `npm run bench:web-live`: live status with many open dashboards. 1,000 signed-in users each
 * hold the dashboard's event stream (`/api/bouncers/events`) open on one production build;
 * the bench then changes one user's bouncer at a time in the accounts DB (what the worker's
 * projection or setup does) and times until that user's stream says `change`. Floor, in the
 * same run: the same change observed by a plain `LISTEN` connection in this process (Postgres's
 * own NOTIFY latency). Also: the web server's memory per open stream. Writes
 * bench-results/web-live.json. Measured and reported, never asserted.
 *
 * Settings (env): BENCH_DASHBOARDS (1000), BENCH_CHANGES (300), BENCH_REBUILD=1.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "@irc-now/db/testing";
import { startAccountsDb } from "./lib/accounts-db";
import { startKubeStandin } from "@irc-now/standins/kube";
import { Cleanup } from "./lib/cleanup";
import { intFromEnv, round } from "./lib/load";
import { benchWebEnv, buildWeb, startNext } from "./lib/next-app";
import { machine, writeResults } from "./lib/results";
import { sessionCookie } from "./lib/session";

const NAMESPACE = "irc-now";
const EVENTS_PATH = "/api/bouncers/events";
const TARGET_P99_MS = 1_000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted.at(-1) ?? NaN, 2),
  };
}

/** Resident memory of a process and its children (kB), from /proc. */
function treeRssKb(rootPid: number): number {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
        .split(" ")
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  let total = 0;
  const queue = [rootPid];
  while (queue.length) {
    const pid = queue.shift()!;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      continue;
    }
    queue.push(...children(pid));
  }
  return total;
}

interface Dashboard {
  userId: string;
  name: string;
  live: boolean;
  /** Resolves the pending wait for this user's next `change`. */
  waiter?: (at: number) => void;
  close(): void;
}

/** One open event stream, as the browser's EventSource holds it. */
function openDashboard(
  agent: http.Agent,
  url: string,
  cookie: string,
  user: { userId: string; name: string },
): Promise<Dashboard> {
  return new Promise((resolve, reject) => {
    const dashboard: Dashboard = { ...user, live: false, close: () => undefined };
    const request = http.get(
      url + EVENTS_PATH,
      { agent, headers: { cookie, accept: "text/event-stream" } },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`${EVENTS_PATH} answered ${response.statusCode}`));
          response.resume();
          return;
        }
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (frame.startsWith("event: state") && frame.includes('"live":true')) {
              if (!dashboard.live) resolve(dashboard);
              dashboard.live = true;
            } else if (frame.startsWith("event: change") && dashboard.waiter) {
              const waiter = dashboard.waiter;
              dashboard.waiter = undefined;
              waiter(performance.now());
            }
          }
        });
        response.on("error", () => undefined);
      },
    );
    request.on("error", reject);
    dashboard.close = () => request.destroy();
  });
}

async function main(): Promise<number> {
  const dashboards = intFromEnv("BENCH_DASHBOARDS", 1_000);
  const changes = intFromEnv("BENCH_CHANGES", 300);
  await buildWeb();
  const cleanup = new Cleanup();
  const open: Dashboard[] = [];
  try {
    const { databaseUrl } = await startAccountsDb(cleanup);
    const kube = await startKubeStandin({ namespaces: [NAMESPACE] });
    cleanup.add("kube stand-in", () => kube.stop());
    const dir = await mkdtemp(join(tmpdir(), "irc-now-bench-live-"));
    cleanup.add("temp dir", () => rm(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, "kubeconfig");
    await kube.writeKubeConfig(kubeconfig);

    // 1,000 users with one bouncer each in the projection the triggers read.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    cleanup.add("bench DB client", () => db.end());
    const { rows: users } = await db.query<{ id: string; username: string }>(
      `INSERT INTO users (keycloak_subject, username, last_login_at, login_count)
       SELECT 'kc-live-' || i, 'live' || i, now(), 1 FROM generate_series(1, $1) AS i
       RETURNING id, username`,
      [dashboards],
    );
    await db.query(
      `INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username)
       SELECT $1, u.username, 'uid-' || u.username, u.id, u.username FROM users u`,
      [NAMESPACE],
    );

    const authSecret = randomBytes(32).toString("base64url");
    const port = await freePort();
    const web = await startNext(
      cleanup,
      port,
      benchWebEnv(databaseUrl, port, authSecret, { KUBECONFIG: kubeconfig }),
      "/api/bench/static",
    );

    // Floor: the same change seen by a plain LISTEN session in this process.
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    cleanup.add("floor listener", () => listener.end());
    let floorWaiter: ((at: number) => void) | undefined;
    listener.on("notification", () => {
      const w = floorWaiter;
      floorWaiter = undefined;
      w?.(performance.now());
    });
    await listener.query("LISTEN irc_now_bouncer_changes");

    const rssBeforeKb = treeRssKb(web.pid);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const opened = performance.now();
    for (let i = 0; i < users.length; i += 100) {
      const batch = users.slice(i, i + 100);
      open.push(
        ...(await Promise.all(
          batch.map(async (u) =>
            openDashboard(agent, web.url, await sessionCookie(u.id, u.username, authSecret), {
              userId: u.id,
              name: u.username,
            }),
          ),
        )),
      );
    }
    const openSeconds = round((performance.now() - opened) / 1000, 2);
    // Let the server settle (GC) before reading its memory with every stream open.
    await new Promise((r) => setTimeout(r, 3_000));
    const rssOpenKb = treeRssKb(web.pid);
    console.log(
      `bench: ${open.length} dashboards live in ${openSeconds} s; web RSS ${Math.round(rssBeforeKb / 1024)} → ${Math.round(rssOpenKb / 1024)} MB`,
    );

    const touch = (name: string) =>
      db.query(`UPDATE bouncers SET observed_at = now() WHERE namespace = $1 AND name = $2`, [
        NAMESPACE,
        name,
      ]);
    const pick = (i: number) => open[(i * 7919) % open.length]!;

    // Each change is observed twice: by the plain LISTEN session (floor) and by the user's
    // dashboard stream, so both figures describe the same commits under the same load.
    const floor: number[] = [];
    const latencies: number[] = [];
    let missed = 0;
    const within = <T>(p: Promise<T>) =>
      Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), 5_000))]);
    for (let i = 0; i < changes; i++) {
      const dashboard = pick(i);
      const atFloor = new Promise<number>((r) => (floorWaiter = r));
      const atDashboard = new Promise<number>((r) => (dashboard.waiter = r));
      const started = performance.now();
      await touch(dashboard.name);
      const [f, d] = await Promise.all([within(atFloor), within(atDashboard)]);
      if (f !== null) floor.push(f - started);
      if (d === null) {
        missed++;
        dashboard.waiter = undefined;
      } else latencies.push(d - started);
    }

    const live = summary(latencies);
    const bare = summary(floor);
    const perStreamKb = round((rssOpenKb - rssBeforeKb) / open.length, 1);
    const results = {
      bench: "web-live",
      date: new Date().toISOString(),
      ...machine(),
      build: "next build && next start (production)",
      settings: { dashboards: open.length, changes },
      openSeconds,
      changeToDashboard: live,
      floorNotifyToListen: bare,
      p99RatioToFloor: round(live.p99Ms / bare.p99Ms, 2),
      missed,
      webRssMb: { before: round(rssBeforeKb / 1024, 1), withStreams: round(rssOpenKb / 1024, 1) },
      webRssKbPerStream: perStreamKb,
      target: { p99Ms: TARGET_P99_MS },
      met: missed === 0 && live.p99Ms <= TARGET_P99_MS,
      notes: {
        changeToDashboard:
          "UPDATE of the user's projection row (committed) → `event: change` on that user's open stream, one change at a time, with every other stream open",
        floorNotifyToListen:
          "the same UPDATE → its NOTIFY delivered to a plain LISTEN connection in the bench process (both observed from the same commits)",
        dashboard:
          "the browser then refetches bouncer.mine (see the web bench for its latency); polling stays at 60 s while the stream is live",
      },
    };
    const path = await writeResults("web-live", results);
    console.log(
      `change → dashboard p50 ${live.p50Ms} ms, p99 ${live.p99Ms} ms (floor p99 ${bare.p99Ms} ms; target ≤ ${TARGET_P99_MS} ms: ${results.met ? "met" : "NOT met"}), missed ${missed}; ${perStreamKb} kB per open stream`,
    );
    console.log(`wrote ${path}`);
    return missed === 0 ? 0 : 1;
  } finally {
    for (const d of open) d.close();
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
