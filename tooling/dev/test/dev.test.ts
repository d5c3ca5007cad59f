import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "@irc-now/db/testing";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Every descendant of `pid` (by walking ps's parent links). */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm run dev", () => {
  it("serves web and worker metrics, then Ctrl-C stops everything and leaves no process behind", async () => {
    const webPort = await freePort();
    const workerPort = await freePort();
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", PORT: String(webPort), WORKER_PORT: String(workerPort) };
    const child = spawn(process.execPath, ["--import", "tsx", "tooling/dev/src/main.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes("irc.now is running")) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`dev did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toContain(`http://localhost:${webPort}`);
      expect(output).toContain(`http://localhost:${workerPort}/metrics`);

      const health = await fetch(`http://127.0.0.1:${webPort}/api/healthz`);
      expect(await health.json()).toEqual({ status: "ok", db: true });
      expect((await fetch(`http://127.0.0.1:${webPort}/`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).toContain("nodejs_heap_size_total_bytes");
      expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);

      const tree = descendants(child.pid!);
      expect(tree.length).toBeGreaterThan(3); // postgres, worker, next and their children
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(output).toContain("irc.now dev: stopped");
      // Give the kernel a moment to reap, then nothing of the tree may remain.
      const until = Date.now() + 10_000;
      while (tree.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      expect(tree.filter(alive)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
