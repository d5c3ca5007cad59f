import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { ErgoFacts } from "../../src/ergo";
import { sweepStateRoot } from "../../src/global-setup";
import { REPO_ROOT } from "../../src/kit";

/**
 * The kit's servers run detached: if the process that started them dies, they live on. These
 * tests kill such a process and check that the two safety nets stop what it left: the exit and
 * signal hooks of the helpers, and the globalSetup's sweep of the state root.
 */

const peers = inject("peers");
const root = mkdtempSync(join(peers?.stateRoot ?? "/tmp", "teardown-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  sweepStateRoot(root);
  rmSync(root, { recursive: true, force: true });
});

/** Running (a zombie waiting for its parent to reap it counts as stopped). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
};

async function waitUntil(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts fixtures/start-ergo.ts in a child process; resolves with the child and ergo's facts. */
function childWithErgo(): Promise<{ child: ChildProcess; ergo: ErgoFacts }> {
  // one process (node with tsx's loader), so that killing it kills what started ergo
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "fixtures/start-ergo.ts")],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PEERS_STATE_ROOT: root },
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve({ child, ergo: JSON.parse(out.slice(0, nl)) as ErgoFacts });
    });
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before starting ergo`)));
  });
}

describe.skipIf(!peers)("teardown of detached peers", () => {
  it("SIGTERM to the process that started ergo stops ergo and removes its state dir", async () => {
    const { child, ergo } = await childWithErgo();
    expect(alive(ergo.pid)).toBe(true);
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    await waitUntil(() => !alive(ergo.pid), "ergo to stop");
    expect(existsSync(ergo.stateDir)).toBe(false);
  });

  it("a process killed with SIGKILL leaves ergo running; the state-root sweep stops it", async () => {
    const { child, ergo } = await childWithErgo();
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    expect(alive(ergo.pid)).toBe(true);
    sweepStateRoot(root);
    await waitUntil(() => !alive(ergo.pid), "ergo to stop");
  });
});
