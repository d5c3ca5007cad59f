import { sql } from "drizzle-orm";
import { reevaluatePlan, type BillingSettings } from "@irc-now/billing";
import type { AccountsDb } from "@irc-now/db";
import type { GraceDeps } from "./ports";

/**
 * One pass of the grace-period check (leader only): every user still on pro whose `past_due`
 * subscription ran past its grace days is re-evaluated — free, a Keycloak outbox row, newest
 * extra bouncers suspended (the applier then disables their soju users) — without waiting for
 * Stripe to send anything. Users are independent: one failing does not stop the others.
 */
export async function endExpiredGrace(deps: GraceDeps): Promise<{ ended: number; failed: number }> {
  const now = (deps.now ?? (() => new Date()))();
  const users = await deps.expiredGrace(now, deps.settings.graceDays);
  let ended = 0;
  let failed = 0;
  for (const userId of users) {
    try {
      const change = await deps.reevaluate(userId, now);
      if (change && change.planBefore !== change.planAfter) {
        ended++;
        deps.log.info(
          { userId, plan: change.planAfter, suspended: change.suspended.length },
          "grace period over: plan re-evaluated",
        );
      }
    } catch (error) {
      failed++;
      deps.log.warn(
        { userId, error: error instanceof Error ? error.message : String(error) },
        "grace period check of a user failed; next pass retries",
      );
    }
  }
  if (ended > 0) deps.metrics?.graceEnded(ended);
  return { ended, failed };
}

/** The accounts DB side of the grace check. */
export function dbGracePorts(
  db: AccountsDb,
  settings: BillingSettings,
): Pick<GraceDeps, "expiredGrace" | "reevaluate" | "settings"> {
  return {
    settings,
    async expiredGrace(now, graceDays) {
      // The same rule as packages/billing's planFor: graceDays × 24 h after the first failure.
      const { rows } = await db.execute<{ id: string }>(sql`
        SELECT id FROM users
         WHERE plan = 'pro' AND stripe_subscription_status = 'past_due'
           AND past_due_since IS NOT NULL
           AND past_due_since + make_interval(secs => ${graceDays * 86_400}) <= ${now.toISOString()}::timestamptz
         ORDER BY past_due_since
         LIMIT 500`);
      return rows.map((r) => r.id);
    },
    reevaluate: (userId, now) => db.transaction((tx) => reevaluatePlan(tx, userId, now, settings)),
  };
}
