/**
 * The worker as its own process, as the image runs it (`node apps/worker/dist/main.js`, the
 * esbuild bundle, built here first), for memory: RSS read from /proc/<pid>/status while it lists
 * and works through a namespace's bouncers.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { freePort } from "@irc-now/db/testing";
import { sleep } from "./stats";

export interface WorkerProcess {
  child: ChildProcess;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** The production bundle, relative to the repo root. */
export const WORKER_BUNDLE = "apps/worker/dist/main.js";

/**
 * Node's flags in the worker's Deployment (deploy/base/worker.yaml `args`; tooling/deploy-test
 * checks they are the same). A capped old space makes V8 collect before RSS grows past the
 * figure: 10,000 bouncers peaked at 227 MB without it and 186 MB with it (same machine).
 */
export const WORKER_NODE_FLAGS = ["--max-old-space-size=128"];

/**
 * How the worker is started (relative to the repo root): the bundle with the Deployment's flags;
 * BENCH_RSS_NODE_ARGS overrides it (e.g. "--import tsx apps/worker/src/main.ts").
 */
export const workerNodeArgs = (
  process.env.BENCH_RSS_NODE_ARGS ?? [...WORKER_NODE_FLAGS, WORKER_BUNDLE].join(" ")
)
  .split(" ")
  .filter(Boolean);

let bundleBuilt = false;
/** Builds the bundle once per run (about 3 s), so the figure is always the current code's. */
function ensureBundle(repoRoot: string): void {
  if (bundleBuilt || !workerNodeArgs.includes(WORKER_BUNDLE)) return;
  execFileSync(process.execPath, ["apps/worker/scripts/build.mjs"], {
    cwd: repoRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
  bundleBuilt = true;
}

export async function startWorkerProcess(
  repoRoot: string,
  env: Record<string, string>,
): Promise<WorkerProcess> {
  ensureBundle(repoRoot);
  const port = await freePort();
  const child = spawn(process.execPath, workerNodeArgs, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", ...env, WORKER_PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Never leave it behind, even if the bench itself dies.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  return {
    child,
    port,
    output: () => output,
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timeout = sleep(10_000).then(() => "timeout" as const);
      if ((await Promise.race([exited, timeout])) === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

export interface ProcMemory {
  rssMB: number;
  hwmMB: number;
}

/** VmRSS (now) and VmHWM (peak since start) of a process, in MB (1024² bytes). */
export async function procMemory(pid: number): Promise<ProcMemory> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return {
    rssMB: Math.round((kb("VmRSS") / 1024) * 10) / 10,
    hwmMB: Math.round((kb("VmHWM") / 1024) * 10) / 10,
  };
}

/** Waits until /readyz says the leader's first list succeeded. */
export async function waitSynced(w: WorkerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (w.child.exitCode !== null)
      throw new Error(`the worker exited (${w.child.exitCode}):\n${w.output().slice(-2000)}`);
    const body = await fetch(`http://127.0.0.1:${w.port}/readyz`)
      .then((r) => r.json() as Promise<{ synced?: boolean; isLeader?: boolean }>)
      .catch(() => undefined);
    if (body?.isLeader && body.synced) return;
    if (Date.now() > deadline)
      throw new Error(
        `the worker did not report synced within ${timeoutMs / 1000} s:\n${w.output().slice(-2000)}`,
      );
    await sleep(100);
  }
}
