import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Cleanup } from "./cleanup";
import { repoRoot } from "./results";

export const webDir = join(repoRoot, "apps", "web");
/** resolve/require as apps/web does: the bench uses the web's own next and next-auth. */
/**
 * The web image's node flags (apps/web/Dockerfile's NODE_OPTIONS, kept equal to this file by
 * apps/web/test/node-options.test.ts): every bench's server runs as the deployed one does.
 */
export const WEB_NODE_OPTIONS = (
  JSON.parse(readFileSync(join(webDir, "node-options.json"), "utf8")) as { NODE_OPTIONS: string }
).NODE_OPTIONS;

export const requireFromWeb = createRequire(join(webDir, "package.json"));

/**
 * The bench's own Next build dir, so building never disturbs a `.next` that `npm test`'s e2e
 * run may be serving at the same time (next.config.ts reads NEXT_DIST_DIR).
 */
export const BENCH_DIST_DIR = ".next-bench";

// What `next build` compiles: the web app and the workspace packages it bundles from source.
const buildInputs = [
  "apps/web/app",
  "apps/web/src",
  "apps/web/public",
  "apps/web/next.config.ts",
  "apps/web/package.json",
  "apps/web/postcss.config.mjs",
  "packages/config/src",
  "packages/db/src",
  "packages/k8s/src",
  "package-lock.json",
];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Why a production build is needed, or null when `.next-bench` is newer than every input. */
export function staleBuildReason(): string | null {
  if (process.env.BENCH_REBUILD === "1") return "BENCH_REBUILD=1";
  const buildId = join(webDir, BENCH_DIST_DIR, "BUILD_ID");
  if (!existsSync(buildId)) return `no ${BENCH_DIST_DIR}/BUILD_ID`;
  const built = statSync(buildId).mtimeMs;
  const changed = buildInputs.find((p) => newestMtime(join(repoRoot, p)) > built);
  return changed ? `${changed} changed since the last build` : null;
}

const nextBin = () => requireFromWeb.resolve("next/dist/bin/next");

/** `next build` into {@link BENCH_DIST_DIR} (output shown), unless it is up to date. */
export async function buildWeb(): Promise<void> {
  const reason = staleBuildReason();
  if (!reason) {
    console.log(`bench: apps/web/${BENCH_DIST_DIR} is up to date (BENCH_REBUILD=1 forces a build)`);
    return;
  }
  console.log(`bench: next build (${reason})…`);
  const child = spawn(process.execPath, [nextBin(), "build"], {
    cwd: webDir,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      NEXT_DIST_DIR: BENCH_DIST_DIR,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`next build failed (exit ${code})`);
}

export interface NextServer {
  url: string;
  pid: number;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * `next start` of the bench build on 127.0.0.1:`port` (a free one), in its own process
 * group, which `cleanup` ends. Ready when `readyPath` answers 200.
 */
export async function startNext(
  cleanup: Cleanup,
  port: number,
  env: Record<string, string>,
  readyPath: string,
): Promise<NextServer> {
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", shows where the server spends its time.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, nextBin(), "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: webDir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        NEXT_DIST_DIR: BENCH_DIST_DIR,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error("next start did not start");
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  };
  cleanup.add("next start", stop);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited early:\n${output}`);
    const ok = await fetch(url + readyPath).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`next start did not answer within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, pid, output: () => output, stop };
}

/**
 * The web's environment in a bench: its accounts DB, its public URL on `port`, and a Keycloak
 * that is never contacted (sessions are JWTs the bench mints; nobody signs in), nor is Stripe. `extra` adds or
 * overrides (e.g. KUBECONFIG, APP_PASSWORD_PEPPER).
 */
export function benchWebEnv(
  databaseUrl: string,
  port: number,
  authSecret: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    K8S_NAMESPACE: "irc-now",
    AUTH_URL: `http://127.0.0.1:${port}`,
    AUTH_SECRET: authSecret,
    KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "bench-not-a-secret",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "bench-not-a-secret",
    // Nor is Stripe (nothing in a bench pays).
    STRIPE_SECRET_KEY: "sk_test_bench_not_a_secret",
    STRIPE_WEBHOOK_SECRET: "whsec_bench_not_a_secret",
    STRIPE_PRICE_PRO: "price_bench_pro",
    STRIPE_API_URL: "http://127.0.0.1:9",
    LOG_LEVEL: "warn",
    BENCH_ROUTES: "1",
    NODE_OPTIONS: WEB_NODE_OPTIONS,
    ...extra,
  };
}
