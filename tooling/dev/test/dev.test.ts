import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { freePort } from "@irc-now/db/testing";
import { BouncerApi, isConfigured } from "@irc-now/k8s";

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
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      PORT: String(webPort),
      WORKER_PORT: String(workerPort),
      AUTH_URL: `http://localhost:${webPort}`,
      // Free ports, so the test never collides with a developer's running `npm run dev`.
      DEV_KEYCLOAK_PORT: "0",
      DEV_ERGO_PORT: "0",
      DEV_OPERATOR_READY_DELAY_MS: "200",
      // Next 16 refuses a second `next dev` in one build dir: keep clear of a developer's own.
      NEXT_DIST_DIR: ".next-devtest",
    };
    const child = spawn(process.execPath, ["--import", "tsx", "tooling/dev/src/main.ts"], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes("irc.now is running")) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`dev did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(output).toContain(`http://localhost:${webPort}`);
      expect(output).toContain(`http://localhost:${workerPort}/metrics`);

      const health = await fetch(`http://127.0.0.1:${webPort}/api/healthz`);
      expect(await health.json()).toEqual({ status: "ok", db: true });
      expect((await fetch(`http://127.0.0.1:${webPort}/`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).toContain(
        "nodejs_heap_size_total_bytes",
      );
      expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);
      expect(output).toMatch(/sign in as alice \/ alice-password/);
      expect(output).toMatch(/sign in as admin \/ admin-password {2}\(admin\)/);

      // A bouncer created in the stand-in cluster ends up logged in to the ergo stand-in by itself.
      const kubeconfig = /KUBECONFIG=(\S+)\)/.exec(output)?.[1];
      expect(kubeconfig).toBeDefined();
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig!);
      const bouncers = new BouncerApi(KubernetesObjectApi.makeApiClient(kc), "irc-now");
      await bouncers.create({
        name: "devcheck",
        username: "devcheck",
        plan: "free",
        ownerId: "dev-test",
      });
      const setupDeadline = Date.now() + 60_000;
      while (!isConfigured((await bouncers.get("devcheck"))!)) {
        if (Date.now() > setupDeadline) throw new Error(`devcheck was not configured:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // Then the worker proves the login (ergo WHOIS) and says so.
      while (!/"bouncer":"devcheck".*upstream setup done: authenticated on irc.now/.test(output)) {
        if (Date.now() > setupDeadline)
          throw new Error(`devcheck was not authenticated:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }

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
      // On failure: stop like a developer would (Ctrl-C), then make sure nothing survives.
      if (child.exitCode === null) {
        const tree = descendants(child.pid!);
        child.kill("SIGINT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        for (const pid of [child.pid!, ...tree]) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    }
  });
});
