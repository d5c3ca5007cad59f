/**
 * The soju metrics sweep (every 300 s): networks, channels, stored messages and active users
 * summed over every tenant DB. At 10,000 bouncers that is 10,000 databases, so:
 * - each DB is read in ONE statement on ONE connection opened for it and closed right after (a
 *   Postgres connection is bound to its database, so nothing can be shared across tenants, and
 *   keeping 10,000 idle connections open between sweeps would exhaust the servers);
 * - `concurrency` DBs at a time (default 8), each within a deadline (connect + statement);
 * - the loop runs at a fixed rate and reports its own duration and how late it started.
 * Plain functions over ports (the URLs, the per-DB reader, a clock) so tests drive it directly.
 */
import { closeSojuDb, createSojuDb } from "@irc-now/db";
import type { LoopClock } from "../bouncers/verify-loop";
import type { WorkerMetrics } from "./worker-metrics";

export interface TenantCounts {
  networks: number;
  channels: number;
  messages: number;
  activeUsers: number;
}

/** Reads one tenant DB's counts; rejects (never hangs) past `deadlineMs`. */
export type TenantCounter = (databaseUrl: string, deadlineMs: number) => Promise<TenantCounts>;

/** All four counts in one round trip (soju's own tables, schema version 18). */
const COUNTS_SQL = `SELECT
  (SELECT count(*) FROM "Network") AS networks,
  (SELECT count(*) FROM "Channel") AS channels,
  (SELECT count(*) FROM "Message") AS messages,
  (SELECT count(*) FROM "User" WHERE downstream_interacted_at >= now() - interval '24 hours') AS active`;

export class TenantTimeout extends Error {
  override readonly name = "TenantTimeout";
}

/** One connection to the tenant DB, one statement, closed afterwards; bounded by `deadlineMs`. */
export const readTenantCounts: TenantCounter = async (databaseUrl, deadlineMs) => {
  const db = createSojuDb(databaseUrl, { max: 1, statementTimeoutMs: deadlineMs });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const query =
      db.$client.query<Record<"networks" | "channels" | "messages" | "active", string>>(COUNTS_SQL);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new TenantTimeout(`no answer within ${deadlineMs} ms`));
      }, deadlineMs);
    });
    query.catch(() => undefined); // settled after a timeout: nobody waits for it any more
    const { rows } = await Promise.race([query, late]);
    const row = rows[0];
    return {
      networks: Number(row?.networks ?? 0),
      channels: Number(row?.channels ?? 0),
      messages: Number(row?.messages ?? 0),
      activeUsers: Number(row?.active ?? 0),
    };
  } finally {
    clearTimeout(timer);
    // After a timeout the pool may still be connecting: it is closed without waiting for it
    // (its own connect/statement timeouts end it), so the deadline bounds the sweep's wait.
    const closing = closeSojuDb(db).catch(() => undefined);
    if (!timedOut) await closing;
  }
};

export interface TenantSweepOptions {
  /** DBs read at once (default 8). */
  concurrency?: number;
  /** Per DB, connect + statement (default 10 s). */
  deadlineMs?: number;
  count?: TenantCounter;
  clock?: Pick<LoopClock, "now">;
}

export interface TenantSweepReport extends TenantCounts {
  databases: number;
  failed: number;
  timedOut: number;
  durationMs: number;
}

/**
 * One sweep over every tenant DB. A DB that cannot be read (no secret, unreachable, too slow)
 * is counted as failed and skipped; the totals cover the rest. Sets the gauges when done.
 */
export async function sweepTenants(
  tenantUrls: () => Promise<Map<string, string | Error>>,
  m: WorkerMetrics,
  options: TenantSweepOptions = {},
): Promise<TenantSweepReport> {
  const clock = options.clock ?? Date;
  const count = options.count ?? readTenantCounts;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const started = clock.now();
  const urls = [...(await tenantUrls()).values()];
  const totals = { networks: 0, channels: 0, messages: 0, activeUsers: 0, failed: 0, timedOut: 0 };
  let next = 0;
  const workers = Array.from(
    { length: Math.min(Math.max(1, options.concurrency ?? 8), Math.max(1, urls.length)) },
    async () => {
      for (let i = next++; i < urls.length; i = next++) {
        const url = urls[i];
        if (url === undefined || url instanceof Error) {
          totals.failed += 1;
          continue;
        }
        try {
          const c = await count(url, deadlineMs);
          totals.networks += c.networks;
          totals.channels += c.channels;
          totals.messages += c.messages;
          totals.activeUsers += c.activeUsers;
        } catch (error) {
          totals.failed += 1;
          if (error instanceof TenantTimeout) totals.timedOut += 1;
        }
      }
    },
  );
  await Promise.all(workers);
  const durationMs = clock.now() - started;
  m.networksTotal.set(totals.networks);
  m.channelsTotal.set(totals.channels);
  m.messagesTotal.set(totals.messages);
  m.activeBouncerUsers.set(totals.activeUsers);
  if (totals.failed) m.tenantSweepErrors.inc(totals.failed);
  if (totals.timedOut) m.tenantSweepTimeouts.inc(totals.timedOut);
  m.tenantSweepDuration.set(durationMs / 1000);
  return { ...totals, databases: urls.length, durationMs };
}

/**
 * Runs `sweep` at a fixed rate: sweep k is planned at start + k·interval; one that ran over
 * makes the next start at once, and `onLag` gets how late each one started (0 on time).
 */
export function fixedRateLoop(
  intervalMs: number,
  sweep: () => Promise<unknown>,
  clock: LoopClock,
  hooks: { onLag?: (lagMs: number) => void; onError: (error: unknown) => void },
): { stop: () => Promise<void>; done: Promise<void> } {
  const stopping = new AbortController();
  const done = (async () => {
    let planned = clock.now();
    while (!stopping.signal.aborted) {
      hooks.onLag?.(Math.max(0, clock.now() - planned));
      await sweep().catch(hooks.onError);
      planned += intervalMs;
      // More than a whole interval behind: skip the sweeps that can no longer be on time.
      while (planned + intervalMs <= clock.now()) planned += intervalMs;
      const wait = planned - clock.now();
      if (wait > 0) await clock.sleep(wait, stopping.signal);
    }
  })();
  return {
    done,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
