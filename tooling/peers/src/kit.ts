import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The peers kit: `../shared/peers` next to the repository (real ergo, soju, sojuctl and
 * kube-apiserver binaries with `X.sh start|stop|status` scripts; see its README). Everything in
 * this package drives those scripts; nothing here reimplements a server.
 */

/** The repository root (this file is `tooling/peers/src/kit.ts`). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** KEY=VALUE facts a kit script prints on its single stdout line. */
export type Facts = Record<string, string>;

/**
 * The kit folder: `PEERS_KIT` when set (a relative value is taken from the repository root, so it
 * means the same from every package's test run), else `<repo>/../shared/peers`.
 */
export function peersKitDir(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.PEERS_KIT;
  if (given !== undefined && given !== "")
    return isAbsolute(given) ? given : resolve(REPO_ROOT, given);
  return resolve(REPO_ROOT, "../shared/peers");
}

/** True when the kit folder exists and has the scripts this package runs. */
export function peersKitAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  const kit = peersKitDir(env);
  return ["ergo.sh", "soju.sh", "sojuctl.sh", "kube.sh"].every((s) => existsSync(join(kit, s)));
}

/** True when the caller asked for real peers (`REAL_PEERS=1`, set by `npm run test:peers`). */
export function realPeersRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.REAL_PEERS === "1";
}

export class PeersKitError extends Error {
  override name = "PeersKitError";
}

function requireKit(): string {
  const kit = peersKitDir();
  if (!peersKitAvailable()) {
    throw new PeersKitError(
      `no peers kit at ${kit} (expected ergo.sh, soju.sh, sojuctl.sh, kube.sh); set PEERS_KIT`,
    );
  }
  return kit;
}

/** Parses `A=1 B=two` (one line; values never contain spaces, the kit guarantees it). */
export function parseFacts(line: string): Facts {
  const facts: Facts = {};
  for (const pair of line.trim().split(/\s+/)) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new PeersKitError(`not a KEY=VALUE fact: ${JSON.stringify(pair)}`);
    facts[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return facts;
}

export interface KitRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs `bash <kit>/<script> args…` and returns its output, whatever the exit status. */
export function runKitScript(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<KitRun> {
  const kit = requireKit();
  return new Promise((resolvePromise, reject) => {
    execFile(
      "bash",
      [join(kit, script), ...args],
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 240_000,
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new PeersKitError(`${script} ${args[0] ?? ""}: ${error.message}`));
          return;
        }
        resolvePromise({
          stdout,
          stderr,
          exitCode: typeof error?.code === "number" ? error.code : 0,
        });
      },
    );
  });
}

/** `X.sh start …`: the facts line, or a PeersKitError carrying the script's stderr (log tail). */
export async function kitStart(
  script: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<Facts> {
  const run = await runKitScript(script, ["start", ...args], { env });
  if (run.exitCode !== 0) {
    throw new PeersKitError(
      `${script} start failed (exit ${run.exitCode}):\n${run.stderr.trim().split("\n").slice(-25).join("\n")}`,
    );
  }
  const line = run.stdout.trim().split("\n").pop() ?? "";
  return parseFacts(line);
}

/** `X.sh stop STATE_DIR` (always exits 0; stops only the process whose pid file is there). */
export async function kitStop(script: string, stateDir: string): Promise<void> {
  if (!existsSync(stateDir)) return;
  const run = await runKitScript(script, ["stop", stateDir], { timeoutMs: 60_000 });
  if (run.exitCode !== 0) {
    throw new PeersKitError(`${script} stop ${stateDir} failed: ${run.stderr.trim()}`);
  }
}

/** The synchronous form, for `process.on("exit")` and signal handlers where nothing async runs. */
export function kitStopSync(script: string, stateDir: string): void {
  if (!existsSync(stateDir) || !peersKitAvailable()) return;
  try {
    execFileSync("bash", [join(peersKitDir(), script), "stop", stateDir], {
      stdio: "ignore",
      timeout: 60_000,
    });
  } catch {
    // best effort: this runs while the process is going away
  }
}

/**
 * Where new state directories go: `PEERS_STATE_ROOT` (set by the globalSetup for the test workers,
 * so its teardown can sweep whatever a crashed worker left running), else the OS temp dir.
 */
export function stateRoot(): string {
  return process.env.PEERS_STATE_ROOT || tmpdir();
}

/** A new private state directory `<root>/<prefix>XXXXXX`. */
export function makeStateDir(prefix: string): Promise<string> {
  return mkdtemp(join(stateRoot(), prefix));
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the embedded-PostgreSQL helper's). */
export { freePort } from "@irc-now/db/testing";

/**
 * Retries `start` with fresh ports when the kit refused because a port was taken between our
 * probe and its own check (other test runs share this machine).
 */
export async function withFreshPorts<T>(start: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !/already in use/.test(String(error))) throw error;
    }
  }
}
