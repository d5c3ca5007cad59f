import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type pg from "pg";
import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { createPool } from "../src/pool";
import { createTestDatabase, startTcpProxy, type TcpProxy } from "../src/testing/index";

/**
 * A connection dying under a transaction (a DB restart, a failover, a stalled network) must
 * neither crash the process nor cost the pool a slot. Seen in the worker's outage test: an
 * uncaught "Connection terminated unexpectedly" and a pool whose end() never resolved.
 */
describe("the pool under a transaction whose connection fails", () => {
  let url: string;
  let proxy: TcpProxy | undefined;
  let pool: pg.Pool | undefined;

  beforeAll(async () => {
    url = await createTestDatabase(inject("postgresUrl"), "pool_faults");
  });
  afterEach(async () => {
    proxy?.up();
    if (pool && !pool.ending) await pool.end();
    await proxy?.close();
    pool = proxy = undefined;
  });

  /** One connection, through a proxy that can cut or stall it; warmed so it sits idle. */
  async function onePooledConnection(queryTimeoutMs = 5_000) {
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    pool = createPool({
      connectionString: proxy.via(url),
      max: 1,
      connectionTimeoutMillis: 1_000,
      query_timeout: queryTimeoutMs,
    });
    const db = drizzle({ client: pool });
    await db.execute(sql`select 1`);
    return { db, pool, proxy };
  }

  it("a connection cut inside a transaction: the transaction fails, nothing is uncaught, the pool serves the next query", async () => {
    const { db, pool, proxy } = await onePooledConnection();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener("uncaughtException", onUncaught);
    try {
      const tx = db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        proxy.down(); // the client is checked out and between statements: no query to fail
        await new Promise((r) => setTimeout(r, 100));
        await tx.execute(sql`select 2`);
      });
      await expect(tx).rejects.toThrow();
      expect(uncaught).toEqual([]);
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    proxy.up();
    const { rows } = await db.execute<{ n: number }>(sql`select 3 as n`);
    expect(rows).toEqual([{ n: 3 }]);
    expect(pool.totalCount).toBe(1);
  });

  it("a BEGIN that fails gives its client back: the one-slot pool still answers, and end() resolves", async () => {
    const { db, pool, proxy } = await onePooledConnection(300);
    proxy.stall();
    await expect(db.transaction(async (tx) => tx.execute(sql`select 1`))).rejects.toThrow(/begin/);
    proxy.up();
    // With the client leaked, this would wait for a free slot and time out after 1 s.
    const { rows } = await db.execute<{ n: number }>(sql`select 4 as n`);
    expect(rows).toEqual([{ n: 4 }]);
    await pool.end(); // never resolves while a client is still checked out
  });

  it("a ROLLBACK that fails destroys its client instead of pooling a connection still busy", async () => {
    const { db, pool, proxy } = await onePooledConnection(300);
    const tx = db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      proxy.stall();
      throw new Error("the transaction's own failure");
    });
    await expect(tx).rejects.toThrow(/rollback/);
    expect(pool.totalCount).toBe(0);
    expect(pool.idleCount).toBe(0);
    proxy.up();
    const { rows } = await db.execute<{ n: number }>(sql`select 5 as n`);
    expect(rows).toEqual([{ n: 5 }]);
  });

  it("a transaction that succeeds or fails on a healthy connection keeps it pooled", async () => {
    const { db, pool } = await onePooledConnection();
    await db.transaction(async (tx) => tx.execute(sql`select 1`));
    await expect(
      db.transaction(async () => {
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    expect(pool.totalCount).toBe(1);
    expect(pool.idleCount).toBe(1);
  });
});
