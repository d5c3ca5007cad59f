/**
 * `npm run bench:soju-auth`: throughput and latency of soju's `auth http` endpoint
 * (`POST /api/soju/auth/{bouncer}`, what every IRC client login costs the portal) with 1,000
 * users × 5 app passwords, beside the bare static route, both served by one production build
 * in the same run. Writes bench-results/soju-auth.json (git-ignored). Measured, never asserted.
 *
 * Every request is a valid login (200) as soju sends it: no body, Basic credentials,
 * Forwarded / X-Forwarded-For; requests cycle through all 5,000 passwords. Last-use stamps are
 * written during the warm-up (once a minute per password), so the measured run is the steady
 * state. Stand-ins: embedded PostgreSQL only (the endpoint never calls Kubernetes; the web still
 * gets a kubeconfig-free config because nothing else is requested).
 *
 * Settings (env): BENCH_CONNECTIONS (10), BENCH_DURATION_S (15), BENCH_WARMUP_S (5),
 * BENCH_REBUILD=1 to force `next build`.
 */
import { createHmac, randomBytes, randomInt } from "node:crypto";
import autocannon from "autocannon";
import { createAccountsDb } from "@irc-now/db";
import { freePort } from "@irc-now/db/testing";
import { startAccountsDb } from "./lib/accounts-db";
import { Cleanup } from "./lib/cleanup";
import { processTreeCpu, withCpu, type CpuProbe } from "./lib/cpu";
import { intFromEnv, round, type LoadSettings, type TargetFigures } from "./lib/load";
import { benchWebEnv, buildWeb, startNext } from "./lib/next-app";
import { machine, printTable, writeResults } from "./lib/results";

const NAMESPACE = "irc-now";
const USERS = 1_000;
const PASSWORDS_PER_USER = 5;
const TARGET_RATIO = 0.5;
const STATIC_PATH = "/api/bench/static";
const AUTH_PATH = "/api/soju/auth";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const base62 = (n: number) =>
  Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

interface Login {
  bouncer: string;
  username: string;
  token: string;
}

/**
 * 1,000 users, each with one bouncer in the projection and 5 app passwords, stored exactly as
 * the web stores them (docs/architecture.md: lookup + HMAC-SHA256 under APP_PASSWORD_PEPPER).
 */
async function seed(databaseUrl: string, pepper: string): Promise<Login[]> {
  const db = createAccountsDb(databaseUrl, { max: 1 });
  const logins: Login[] = [];
  try {
    const usernames = Array.from({ length: USERS }, (_, i) => `bench${i}`);
    const { rows } = await db.$client.query<{ id: string; username: string }>(
      `INSERT INTO users (keycloak_subject, username) SELECT 'kc-' || u, u FROM unnest($1::text[]) AS u RETURNING id, username`,
      [usernames],
    );
    await db.$client.query(
      `INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username)
       SELECT $1, u.username, 'uid-' || u.username, u.id, u.username
       FROM unnest($2::uuid[], $3::text[]) AS u(id, username)`,
      [NAMESPACE, rows.map((r) => r.id), rows.map((r) => r.username)],
    );
    const ids: string[] = [];
    const lookups: string[] = [];
    const hashes: string[] = [];
    for (const { id, username } of rows) {
      for (let p = 0; p < PASSWORDS_PER_USER; p++) {
        const lookup = base62(16);
        const token = `ircnow_${lookup}_${base62(32)}`;
        ids.push(id);
        lookups.push(lookup);
        hashes.push(createHmac("sha256", pepper).update(token).digest("hex"));
        logins.push({ bouncer: username, username, token });
      }
    }
    await db.$client.query(
      `INSERT INTO app_passwords (user_id, label, lookup, secret_hash)
       SELECT id, 'device', lookup, hash FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, lookup, hash)`,
      [ids, lookups, hashes],
    );
  } finally {
    await db.$client.end();
  }
  // Shuffled (Fisher–Yates) so consecutive requests are different users' logins.
  for (let i = logins.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [logins[i], logins[j]] = [logins[j]!, logins[i]!];
  }
  return logins;
}

type Request = { method: "GET" | "POST"; path: string; headers: Record<string, string> };

function sojuRequest(login: Login, i: number): Request {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  return {
    method: "POST",
    path: `${AUTH_PATH}/${login.bouncer}`,
    headers: {
      authorization: `Basic ${Buffer.from(`${login.username}:${login.token}`).toString("base64")}`,
      forwarded: `for="${address}:40000"`,
      "x-forwarded-for": address,
      "content-length": "0",
    },
  };
}

function fire(baseUrl: string, requests: Request[], connections: number, seconds: number) {
  return autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    // Plain data (no functions), so the load generator can run on its own thread.
    workers: 1,
    requests,
  });
}

async function measure(
  name: string,
  baseUrl: string,
  requests: Request[],
  settings: LoadSettings,
  probes: Record<string, CpuProbe>,
): Promise<TargetFigures> {
  console.log(`bench: ${name}…`);
  if (settings.warmupSeconds > 0)
    await fire(baseUrl, requests, settings.connections, settings.warmupSeconds);
  const { result: r, cpuMs } = await withCpu(probes, () =>
    fire(baseUrl, requests, settings.connections, settings.durationSeconds),
  );
  const done = Math.max(1, r.requests.total);
  return {
    path: requests[0]!.path,
    requestsPerSecond: round(r.requests.average),
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyAvgMs: round(r.latency.average),
    latencyMaxMs: r.latency.max,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    cpuMsPerRequest: Object.fromEntries(
      Object.entries(cpuMs).map(([k, ms]) => [k, ms === null ? null : round(ms / done, 3)]),
    ),
  };
}

async function main(): Promise<number> {
  const settings: LoadSettings = {
    connections: intFromEnv("BENCH_CONNECTIONS", 10),
    durationSeconds: intFromEnv("BENCH_DURATION_S", 15),
    warmupSeconds: intFromEnv("BENCH_WARMUP_S", 5),
  };
  await buildWeb();
  const cleanup = new Cleanup();
  try {
    const { databaseUrl, postmaster } = await startAccountsDb(cleanup);
    const pepper = randomBytes(32).toString("base64url");
    const logins = await seed(databaseUrl, pepper);

    const port = await freePort();
    const web = await startNext(
      cleanup,
      port,
      benchWebEnv(databaseUrl, port, randomBytes(32).toString("base64url"), {
        APP_PASSWORD_PEPPER: pepper,
      }),
      STATIC_PATH,
    );

    // Before any load: a login is accepted, a wrong password refused, the bare route answers.
    const ok = sojuRequest(logins[0]!, 0);
    const accepted = await fetch(web.url + ok.path, { method: "POST", headers: ok.headers });
    const wrong = sojuRequest({ ...logins[0]!, token: logins[1]!.token }, 0);
    const refused = await fetch(web.url + wrong.path, { method: "POST", headers: wrong.headers });
    const bare = await fetch(web.url + STATIC_PATH);
    if (accepted.status !== 200 || refused.status !== 403 || bare.status !== 200)
      throw new Error(
        `before load: login ${accepted.status} (want 200), wrong password ${refused.status} (want 403), static ${bare.status} (want 200)`,
      );
    console.log(
      `bench: verified ${AUTH_PATH} (200 / 403) and ${STATIC_PATH}; ${USERS} users × ${PASSWORDS_PER_USER} passwords`,
    );

    const before = machine();
    console.log(
      `bench: ${settings.connections} connections × ${settings.durationSeconds} s per target (after ${settings.warmupSeconds} s warm-up), ` +
        `${before.cpus} CPUs, load average ${before.loadavg1m}`,
    );
    const probes: Record<string, CpuProbe> = { web: processTreeCpu(web.pid) };
    if (postmaster !== null) probes.postgres = processTreeCpu(postmaster);
    const staticRequests: Request[] = [{ method: "GET", path: STATIC_PATH, headers: {} }];
    const authRequests = logins.map(sojuRequest);
    const figures: Record<string, TargetFigures> = {
      static: await measure("static", web.url, staticRequests, settings, probes),
      "soju-auth": await measure("soju-auth", web.url, authRequests, settings, probes),
    };
    const after = machine();
    const auth = figures["soju-auth"]!;
    const bareFigures = figures.static!;
    const ratio = round(auth.requestsPerSecond / bareFigures.requestsPerSecond, 3);
    const p99Ratio = bareFigures.latencyP99Ms
      ? round(auth.latencyP99Ms / bareFigures.latencyP99Ms, 3)
      : null;
    const webCpuAuth = auth.cpuMsPerRequest.web;
    const webCpuStatic = bareFigures.cpuMsPerRequest.web;
    const clean = Object.values(figures).every(
      (f) => f.errors === 0 && f.timeouts === 0 && f.non2xx === 0,
    );
    const results = {
      bench: "soju-auth",
      date: new Date().toISOString(),
      node: before.node,
      cpus: before.cpus,
      cpuModel: before.cpuModel,
      loadavg1m: { before: before.loadavg1m, after: after.loadavg1m },
      build: "next build && next start (production)",
      settings: {
        ...settings,
        pipelining: 1,
        users: USERS,
        passwordsPerUser: PASSWORDS_PER_USER,
      },
      targets: figures,
      ratio,
      p99Ratio,
      target: TARGET_RATIO,
      met: ratio >= TARGET_RATIO,
      webCpuRatio: webCpuAuth && webCpuStatic ? round(webCpuStatic / webCpuAuth, 3) : null,
      valid: clean,
      notes: {
        ratio:
          "soju-auth requests/s ÷ static requests/s, measured one after the other with the same settings",
        p99Ratio: "soju-auth p99 latency ÷ static p99 latency",
        webCpuRatio:
          "static web CPU per request ÷ soju-auth web CPU per request: the throughput ratio when the web server has a core to itself",
      },
    };
    const path = await writeResults("soju-auth", results);
    console.log("");
    printTable(figures);
    console.log(
      `\nsoju-auth / static = ${ratio} (target ≥ ${TARGET_RATIO}: ${results.met ? "met" : "NOT met"}); p99 ratio ${p99Ratio}`,
    );
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
