/**
 * The soju metrics sweep: real tenant DBs (embedded PostgreSQL, soju's v18 schema) for what is
 * read and how; a fake per-DB reader at the port and a virtual clock for concurrency and the
 * loop's lag (no real timers).
 */
import net from "node:net";
import pg from "pg";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createSojuSchemaForTests, createTestDatabase } from "@irc-now/db/testing";
import {
  fixedRateLoop,
  readTenantCounts,
  sweepTenants,
  TenantTimeout,
  type TenantCounts,
} from "../src/metrics/tenant-sweep";
import { createWorkerMetrics } from "../src/metrics/worker-metrics";
import { until } from "./support/harness";
import { VirtualClock } from "./support/virtual-clock";

async function tenantDb(users: number, networksPerUser: number, channelsPerNetwork: number) {
  const url = await createTestDatabase(inject("postgresUrl"), "tenant");
  await createSojuSchemaForTests(url);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  for (let u = 0; u < users; u++) {
    const { rows } = await c.query<{ id: number }>(
      `INSERT INTO "User" (username, downstream_interacted_at) VALUES ($1, $2) RETURNING id`,
      [`user${u}`, u === 0 ? new Date() : null],
    );
    for (let n = 0; n < networksPerUser; n++) {
      const net = await c.query<{ id: number }>(
        `INSERT INTO "Network" ("user", name, addr) VALUES ($1, $2, 'irc+insecure://x:1') RETURNING id`,
        [rows[0]!.id, `n${n}`],
      );
      for (let ch = 0; ch < channelsPerNetwork; ch++)
        await c.query(`INSERT INTO "Channel" (network, name) VALUES ($1, $2)`, [
          net.rows[0]!.id,
          `#c${ch}`,
        ]);
    }
  }
  await c.end();
  return url;
}

/** Postgres connections to `url`'s database still open. */
async function connectionsTo(url: string): Promise<number> {
  const db = new URL(url).pathname.slice(1);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [db],
  );
  await c.end();
  return rows[0]!.n;
}

let silent: net.Server;
const sockets = new Set<net.Socket>();
let silentUrl = "";
beforeAll(async () => {
  // Accepts connections and never says a word: a tenant DB that hangs.
  silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentUrl = `postgres://x:y@127.0.0.1:${(silent.address() as net.AddressInfo).port}/soju`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((r) => silent.close(r));
});

describe("soju metrics sweep", () => {
  it("reads each tenant DB's counts in one statement and leaves no connection open", async () => {
    const url = await tenantDb(2, 2, 3);
    expect(await readTenantCounts(url, 5_000)).toEqual({
      networks: 4,
      channels: 12,
      messages: 0,
      activeUsers: 1,
    });
    // The client has ended its connection; the server reaps the backend a moment later (under
    // load, after this line ran: seen once in the whole suite), so look until it is gone.
    await until(
      async () => (await connectionsTo(url)) === 0,
      "the tenant DB connection to go",
      5_000,
    );
  });

  it("a tenant DB that never answers fails within its deadline as TenantTimeout", async () => {
    const error = await readTenantCounts(silentUrl, 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TenantTimeout);
  });

  it("sums every readable DB, counts the rest as failed (timeouts apart), sets the gauges and its duration", async () => {
    const a = await tenantDb(1, 1, 2);
    const b = await tenantDb(3, 1, 0);
    const registry = new Registry();
    const m = createWorkerMetrics(registry);
    const urls = new Map<string, string | Error>([
      ["a", a],
      ["b", b],
      ["no-secret", new Error("secret irc-now/no-secret-db not found")],
      ["hung", silentUrl],
    ]);
    const report = await sweepTenants(async () => urls, m, { deadlineMs: 500, concurrency: 2 });
    expect(report).toMatchObject({
      databases: 4,
      networks: 4,
      channels: 2,
      messages: 0,
      activeUsers: 2,
      failed: 2,
      timedOut: 1,
    });
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await value("irc_now_bouncer_networks_total")).toBe(4);
    expect(await value("irc_now_tenant_sweep_errors_total")).toBe(2);
    expect(await value("irc_now_tenant_sweep_timeouts_total")).toBe(1);
    expect(await value("irc_now_tenant_sweep_duration_seconds")).toBe(report.durationMs / 1000);
    for (const url of [a, b]) expect(await connectionsTo(url)).toBe(0);
  });

  it("reads at most `concurrency` DBs at once", async () => {
    let inFlight = 0;
    let max = 0;
    const clock = new VirtualClock(0);
    const count = async (): Promise<TenantCounts> => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      await clock.sleep(100);
      inFlight -= 1;
      return { networks: 1, channels: 0, messages: 0, activeUsers: 0 };
    };
    const urls = new Map(Array.from({ length: 50 }, (_, i) => [`t${i}`, `postgres://t${i}`]));
    const sweep = sweepTenants(async () => urls, createWorkerMetrics(new Registry()), {
      concurrency: 6,
      count,
      clock,
    });
    await clock.advanceTo(10_000);
    const report = await sweep;
    expect(max).toBe(6);
    expect(report.networks).toBe(50);
    // 50 DBs × 100 ms / 6 at a time: 9 rounds.
    expect(report.durationMs).toBe(900);
  });

  it("runs at a fixed rate; a sweep that ran over starts the next at once and reports its lag", async () => {
    const clock = new VirtualClock(1_000);
    const starts: number[] = [];
    const lags: number[] = [];
    const durations = [100, 450, 100, 1_700, 100, 100];
    const loop = fixedRateLoop(
      300,
      async () => {
        starts.push(clock.now());
        await clock.sleep(durations[starts.length - 1] ?? 100);
      },
      clock,
      { onLag: (ms) => lags.push(ms), onError: (e) => expect.unreachable(String(e)) },
    );
    await clock.advanceTo(3_650);
    const stopped = loop.stop();
    await clock.advanceTo(4_000);
    await stopped;
    // Planned at 1000, 1300, 1600, 1900, …: the 450 ms sweep makes the third start at 1750
    // (150 late), the fourth is on time again; the 1.7 s one ends at 3600, more than an
    // interval behind, so the sweeps planned meanwhile are skipped and the next starts at once,
    // 200 ms after the latest planned time (3400).
    expect(starts).toEqual([1_000, 1_300, 1_750, 1_900, 3_600]);
    expect(lags).toEqual([0, 0, 150, 0, 200]);
  });
});
