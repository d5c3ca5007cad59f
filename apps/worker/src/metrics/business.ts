import { count, gte, sql, sum } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
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

// The soju metrics sweep over every tenant DB lives in ./tenant-sweep.ts.
export { sweepTenants, readTenantCounts, type TenantCounts } from "./tenant-sweep";
