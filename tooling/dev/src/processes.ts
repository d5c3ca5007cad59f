import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Env, LocalService } from "./stack";

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: (env: Env) => Env;
  /** URL that answers once the process is up. */
  readyUrl?: (env: Env) => string;
  info?: (env: Env) => string[];
  color: number;
}

/** Kill the whole process group: `next dev` and `tsx watch` have children of their own. */
async function killGroup(child: ChildProcess, graceMs = 8_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // group already gone
    }
  };
  signal("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), graceMs);
    }),
  ]);
  // A pending grace timer would keep `npm run dev` alive for its whole length after the exit.
  clearTimeout(timer);
  if (timedOut) signal("SIGKILL");
  // Stragglers in the group (grandchildren) get SIGKILL either way.
  signal("SIGKILL");
}

async function waitForUrl(
  url: string,
  child: ChildProcess,
  signal?: AbortSignal,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `exited (${child.signalCode ?? `code ${child.exitCode}`}) before ${url} answered`,
      );
    const ok = await fetch(url)
      .then((r) => r.status < 500)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

export function processService(spec: ProcessSpec): LocalService {
  return {
    name: spec.name,
    async start(env, abort) {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: { ...process.env, ...env, ...spec.env(env) },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true, // own process group, so stopping it reaches every descendant
      });
      const prefix = `\x1b[${spec.color}m[${spec.name}]\x1b[0m `;
      for (const stream of [child.stdout, child.stderr]) {
        if (stream)
          createInterface({ input: stream }).on("line", (line) =>
            process.stdout.write(prefix + line + "\n"),
          );
      }
      const stop = () => killGroup(child);
      try {
        if (spec.readyUrl) await waitForUrl(spec.readyUrl(env), child, abort);
      } catch (error) {
        await stop();
        if (abort?.aborted) throw error;
        throw new Error(`${spec.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { info: spec.info?.(env), stop };
    },
  };
}
