import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "@irc-now/db/testing";

const workerDir = fileURLToPath(new URL("../../../apps/worker/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "irc-now-worker-host-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Another address of this machine: 127.0.0.2 reaches a socket bound to 0.0.0.0 on Linux (all of
 * 127/8 is loopback) but not one bound to 127.0.0.1, and needs no network interface.
 */
const external = "127.0.0.2";

const status = (host: string, port: number) =>
  fetch(`http://${host}:${port}/healthz`).then(
    (r) => r.status,
    (e: { cause?: { code?: string } }) => e.cause?.code ?? "error",
  );

/** The worker's health server only: its dependencies may be unreachable for this. */
async function listeningOn(workerHost: string | undefined): Promise<Record<string, unknown>> {
  const kubeconfig = join(dir, "config");
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      'clusters: [{name: none, cluster: {server: "http://127.0.0.1:1"}}]',
      "users: [{name: none, user: {}}]",
      "contexts: [{name: none, context: {cluster: none, user: none}}]",
      "current-context: none",
    ].join("\n"),
  );
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: "postgres://nobody:none@127.0.0.1:1/none",
      KUBECONFIG: kubeconfig,
      ERGO_API_URL: "http://127.0.0.1:1",
      ERGO_API_TOKEN: "unused",
      KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
      KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
      KEYCLOAK_ADMIN_CLIENT_SECRET: "unused",
      LEADER_ELECTION: "false",
      LOG_LEVEL: "silent",
      WORKER_PORT: String(port),
      ...(workerHost === undefined ? {} : { WORKER_HOST: workerHost }),
    },
    stdio: "ignore",
  });
  try {
    const deadline = Date.now() + 30_000;
    while ((await status("127.0.0.1", port)) !== 200) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error("worker did not listen");
      await new Promise((r) => setTimeout(r, 200));
    }
    return { loopback: await status("127.0.0.1", port), external: await status(external, port) };
  } finally {
    child.kill("SIGKILL");
  }
}

describe("the worker's health server address (WORKER_HOST)", () => {
  it("listens on loopback only with WORKER_HOST=127.0.0.1, as in npm run dev", async () => {
    expect(await listeningOn("127.0.0.1")).toEqual({ loopback: 200, external: "ECONNREFUSED" });
  });

  it("listens on every interface by default (Prometheus scrapes the pod IP)", async () => {
    expect(await listeningOn(undefined)).toEqual({ loopback: 200, external: 200 });
  });
});
