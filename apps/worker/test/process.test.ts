import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startEmbeddedPostgres, type EmbeddedPg } from "@irc-now/db/testing";
import { startKubeStandin } from "@irc-now/standins/kube";

const workerDir = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startWorker(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const statusOf = (url: string) => async () => (await fetch(url)).status;

describe("worker process", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it("reports /readyz 503 while the DB is down, 200 once it is up, and exits 0 on SIGTERM", async () => {
    const pgPort = await freePort();
    const workerPort = await freePort();
    const password = "readyz-test-pw";
    const kube = await startKubeStandin({ namespaces: ["irc-now"] });
    cleanups.push(() => kube.stop());
    const kubeDir = await mkdtemp(join(tmpdir(), "irc-now-worker-proc-"));
    cleanups.push(() => rm(kubeDir, { recursive: true, force: true }));
    const kubeconfig = join(kubeDir, "config");
    await kube.writeKubeConfig(kubeconfig);
    const run = startWorker({
      DATABASE_URL: `postgresql://postgres:${password}@127.0.0.1:${pgPort}/postgres`,
      WORKER_PORT: String(workerPort),
      KUBECONFIG: kubeconfig,
      ERGO_API_URL: "http://127.0.0.1:1",
      ERGO_API_TOKEN: "unused-token",
      KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
      KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
      KEYCLOAK_ADMIN_CLIENT_SECRET: "unused-secret",
      LEASE_NAME: "worker-process-test",
    });
    cleanups.push(async () => run.child.kill("SIGKILL"));
    const base = `http://127.0.0.1:${workerPort}`;

    expect(await waitFor(statusOf(`${base}/healthz`), "worker to listen")).toBe(200);
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: "not ready", db: false });

    const pg: EmbeddedPg = await startEmbeddedPostgres({ port: pgPort, password });
    cleanups.push(() => pg.stop());
    await waitFor(
      async () => ((await statusOf(`${base}/readyz`)()) === 200 ? true : undefined),
      "readyz 200",
    );
    const ready = (await (await fetch(`${base}/readyz`)).json()) as {
      leader: string;
      identity: string;
    };
    expect(ready).toMatchObject({ status: "ready", db: true, isLeader: true, synced: true });
    expect(ready.leader).toBe(ready.identity);
    // The lease in the cluster names this replica.
    const lease = kube.objects.get(
      "leases.coordination.k8s.io",
      "irc-now",
      "worker-process-test",
    ) as { spec?: { holderIdentity?: string } };
    expect(lease.spec?.holderIdentity).toBe(ready.identity);

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("process_cpu_user_seconds_total");
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain("stopped");
    expect(run.output()).not.toContain(password);
    // SIGTERM released the lease so a standby can take over at once.
    const released = kube.objects.get(
      "leases.coordination.k8s.io",
      "irc-now",
      "worker-process-test",
    ) as { spec?: { holderIdentity?: string } };
    expect(released.spec?.holderIdentity).toBeUndefined();
  });

  it("refuses to start with a bad configuration, naming every offending variable", async () => {
    const run = startWorker({ WORKER_PORT: "99999", LEADER_ELECTION: "perhaps" });
    cleanups.push(async () => run.child.kill("SIGKILL"));
    expect(await run.exited).toBe(78);
    expect(run.output()).toMatch(/DATABASE_URL: is required but not set/);
    expect(run.output()).toMatch(/ERGO_IRC_URL: is required/);
    expect(run.output()).toMatch(/WORKER_PORT: must be between 1 and 65535/);
    expect(run.output()).toMatch(/LEADER_ELECTION: must be true or false/);
  });
});
