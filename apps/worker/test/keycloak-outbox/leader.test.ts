import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { freePort } from "@irc-now/db/testing";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import { until } from "../support/harness";
import { startOutboxWorld, type OutboxWorld } from "./support";

// Leader only: two real worker processes (main.ts) share the accounts DB and the Keycloak
// stand-in; only the one holding the Lease drains the outbox, and the standby takes over when
// the leader stops.

const workerDir = fileURLToPath(new URL("../..", import.meta.url));
let world: OutboxWorld;
let kube: KubeStandin;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  world = await startOutboxWorld(inject("postgresUrl"), "outbox_leader");
  kube = await startKubeStandin({ namespaces: ["irc-now"] });
  dir = await mkdtemp(join(tmpdir(), "irc-now-outbox-leader-"));
  await kube.writeKubeConfig(join(dir, "config"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await kube?.stop();
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWorker(name: string) {
  const port = await freePort();
  const account = world.kc.serviceAccounts[0]!;
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      PATH: process.env.PATH ?? "",
      HOSTNAME: name,
      LOG_LEVEL: "info",
      DATABASE_URL: world.databaseUrl,
      KUBECONFIG: join(dir, "config"),
      ERGO_API_URL: "http://127.0.0.1:1",
      ERGO_API_TOKEN: "unused-token",
      KEYCLOAK_ISSUER: world.kc.issuer,
      KEYCLOAK_ADMIN_CLIENT_ID: account.clientId,
      KEYCLOAK_ADMIN_CLIENT_SECRET: account.clientSecret,
      LEASE_NAME: "outbox-leader-test",
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const readyz = async () => {
    const r = await fetch(`${base}/readyz`).catch(() => undefined);
    return r?.status === 200 ? ((await r.json()) as { isLeader: boolean }) : undefined;
  };
  const delivered = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith('irc_now_keycloak_outbox_pushes_total{result="delivered"} '));
    return line ? Number(line.split(" ")[1]) : 0;
  };
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, readyz, delivered, exited, output: () => output };
}

/** Connections that LISTEN for the outbox: one per running drain. */
async function drains(): Promise<number> {
  const { rows } = await world.db.execute<{ n: string }>(
    sql`SELECT count(*) AS n FROM pg_stat_activity
         WHERE application_name = 'irc-now-worker irc_now_keycloak_outbox' AND datname = current_database()`,
  );
  return Number(rows[0]!.n);
}

describe("keycloak outbox drain, leader only", () => {
  it("the standby does not drain; it takes over when the leader stops", async () => {
    const a = await startWorker("worker-a");
    await until(async () => (await a.readyz())?.isLeader, `worker-a to lead\n${a.output()}`);
    const b = await startWorker("worker-b");
    const standby = await until(b.readyz, `worker-b ready\n${b.output()}`);
    expect(standby.isLeader).toBe(false);

    const first = await world.addUser("leader-test-1");
    await world.save(first.userId, { displayName: "Led By A", plan: "pro" });
    await until(
      async () => (await world.rows(first.userId))[0]?.deliveredAt instanceof Date,
      "the first save delivered",
    );
    expect(world.kc.getUser(first.kcId)!.attributes.plan).toEqual(["pro"]);
    expect(await a.delivered()).toBe(1);
    expect(await b.delivered()).toBe(0);
    expect(await drains()).toBe(1);

    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    await until(async () => (await b.readyz())?.isLeader, `worker-b to lead\n${b.output()}`);
    const second = await world.addUser("leader-test-2");
    await world.save(second.userId, { displayName: "Led By B" });
    await until(
      async () => (await world.rows(second.userId))[0]?.deliveredAt instanceof Date,
      "the second save delivered",
    );
    expect(world.kc.getUser(second.kcId)!.firstName).toBe("Led");
    expect(await b.delivered()).toBe(1);
    expect(await drains()).toBe(1);
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
  }, 120_000);
});
