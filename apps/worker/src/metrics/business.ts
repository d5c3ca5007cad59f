import { count, gte, sql, sum } from "drizzle-orm";
import { accounts, closeSojuDb, createSojuDb, soju, type AccountsDb } from "@irc-now/db";
import type { WorkerMetrics } from "./worker-metrics";

/** Users metrics from the accounts DB (every 60 s). */
export async function sweepUsers(db: AccountsDb, m: WorkerMetrics): Promise<void> {
  const u = accounts.users;
  const [[totals], byPlan, [active]] = await Promise.all([
    db.select({ users: count(), logins: sum(u.loginCount) }).from(u),
    db.select({ plan: u.plan, n: count() }).from(u).groupBy(u.plan),
    db
      .select({ n: count() })
      .from(u)
      .where(gte(u.lastLoginAt, sql`now() - interval '24 hours'`)),
  ]);
  m.usersTotal.set(totals?.users ?? 0);
  m.loginsTotal.set(Number(totals?.logins ?? 0));
  m.usersByPlan.reset();
  for (const plan of accounts.plan.enumValues)
    m.usersByPlan.set({ plan }, byPlan.find((p) => p.plan === plan)?.n ?? 0);
  m.activeUsers24h.set(active?.n ?? 0);
}

export interface TenantCounts {
  networks: number;
  channels: number;
  messages: number;
  activeUsers: number;
}

/** Counts in one soju tenant DB; the pool is always closed afterwards. */
export async function tenantCounts(databaseUrl: string): Promise<TenantCounts> {
  const db = createSojuDb(databaseUrl, { max: 1 });
  try {
    const [[n], [c], [msg], [a]] = await Promise.all([
      db.select({ n: count() }).from(soju.sojuNetwork),
      db.select({ n: count() }).from(soju.sojuChannel),
      db.select({ n: count() }).from(soju.sojuMessage),
      db
        .select({ n: count() })
        .from(soju.sojuUser)
        .where(gte(soju.sojuUser.downstreamInteractedAt, sql`now() - interval '24 hours'`)),
    ]);
    return {
      networks: n?.n ?? 0,
      channels: c?.n ?? 0,
      messages: msg?.n ?? 0,
      activeUsers: a?.n ?? 0,
    };
  } finally {
    await closeSojuDb(db);
  }
}

/**
 * soju metrics over every tenant DB (every 300 s), `concurrency` DBs at a time. A DB that cannot
 * be read is counted as an error and skipped; totals cover the rest.
 */
export async function sweepTenants(
  tenantUrls: () => Promise<Map<string, string | Error>>,
  m: WorkerMetrics,
  concurrency = 4,
): Promise<TenantCounts & { failed: number }> {
  const urls = await tenantUrls();
  const totals = { networks: 0, channels: 0, messages: 0, activeUsers: 0, failed: 0 };
  const queue = [...urls.values()];
  const workers = Array.from({ length: Math.max(1, concurrency) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (next instanceof Error) {
        totals.failed += 1;
        continue;
      }
      try {
        const c = await tenantCounts(next);
        totals.networks += c.networks;
        totals.channels += c.channels;
        totals.messages += c.messages;
        totals.activeUsers += c.activeUsers;
      } catch {
        totals.failed += 1;
      }
    }
  });
  await Promise.all(workers);
  m.networksTotal.set(totals.networks);
  m.channelsTotal.set(totals.channels);
  m.messagesTotal.set(totals.messages);
  m.activeBouncerUsers.set(totals.activeUsers);
  if (totals.failed) m.tenantSweepErrors.inc(totals.failed);
  return totals;
}
