import { eq, sql } from "drizzle-orm";
import { accounts, type AccountsDbOrTx } from "@irc-now/db";
import { planFor, suspensionPlan, type PlanVerdict } from "./plan-rules";

export interface BillingSettings {
  /** PRO_GRACE_DAYS */
  graceDays: number;
  /** PLAN_QUOTA_FREE, PLAN_QUOTA_PRO */
  quotaFree: number;
  quotaPro: number;
}

/** Stripe's current view of a user's subscription, as re-read from the API (never an event's). */
export interface SubscriptionSnapshot {
  id: string;
  customerId: string;
  status: string;
  cancelAtPeriodEnd: boolean;
  /** `items.data[0].current_period_end` (basil and later). */
  periodEnd: Date | null;
}

export interface BillingChange {
  planBefore: "free" | "pro";
  planAfter: "free" | "pro";
  graceEndsAt: Date | null;
  /** Bouncer names newly suspended / resumed by this change. */
  suspended: string[];
  resumed: string[];
}

/** `bouncers.suspended_reason` of a suspension over the plan's quota (the UI words it). */
export const OVER_QUOTA = "over_quota";

export function quotaFor(plan: "free" | "pro", settings: BillingSettings): number {
  return plan === "pro" ? settings.quotaPro : settings.quotaFree;
}

/**
 * Applies Stripe's current state of a user's subscription (`null`: they have none, e.g. after a
 * deletion re-read as gone) in the caller's transaction: the subscription columns, the plan (with
 * a Keycloak outbox row when it changes, since `plan` and `content_expires` follow it) and the
 * suspensions the new quota implies. The user's row is locked first, so concurrent deliveries
 * about one user apply one after the other. Returns null when the user does not exist.
 */
export async function applySubscription(
  tx: AccountsDbOrTx,
  userId: string,
  sub: SubscriptionSnapshot | null,
  now: Date,
  settings: BillingSettings,
): Promise<BillingChange | null> {
  const [user] = await tx
    .select()
    .from(accounts.users)
    .where(eq(accounts.users.id, userId))
    .for("update");
  if (!user) return null;
  const status = sub?.status ?? null;
  // Grace runs from the first failure of the current run of failures, not from the latest one.
  const pastDueSince =
    status === "past_due"
      ? user.stripeSubscriptionStatus === "past_due"
        ? (user.pastDueSince ?? now)
        : now
      : null;
  const verdict = planFor({ status, pastDueSince }, now, settings.graceDays);
  await tx
    .update(accounts.users)
    .set({
      stripeCustomerId: sub?.customerId ?? user.stripeCustomerId,
      stripeSubscriptionId: sub?.id ?? null,
      stripeSubscriptionStatus: status,
      subscriptionCancelAtPeriodEnd: sub?.cancelAtPeriodEnd ?? false,
      subscriptionPeriodEnd: sub?.periodEnd ?? null,
      pastDueSince,
      plan: verdict.plan,
      updatedAt: sql`now()`,
    })
    .where(eq(accounts.users.id, userId));
  return finish(tx, userId, user.plan, verdict, settings);
}

/**
 * Re-evaluates a user's plan with nothing new from Stripe: the scheduled check that ends a
 * `past_due` grace period without waiting for a webhook. Null when the user does not exist.
 */
export async function reevaluatePlan(
  tx: AccountsDbOrTx,
  userId: string,
  now: Date,
  settings: BillingSettings,
): Promise<BillingChange | null> {
  const [user] = await tx
    .select()
    .from(accounts.users)
    .where(eq(accounts.users.id, userId))
    .for("update");
  if (!user) return null;
  const verdict = planFor(
    { status: user.stripeSubscriptionStatus, pastDueSince: user.pastDueSince },
    now,
    settings.graceDays,
  );
  if (verdict.plan !== user.plan)
    await tx
      .update(accounts.users)
      .set({ plan: verdict.plan, updatedAt: sql`now()` })
      .where(eq(accounts.users.id, userId));
  return finish(tx, userId, user.plan, verdict, settings);
}

async function finish(
  tx: AccountsDbOrTx,
  userId: string,
  planBefore: "free" | "pro",
  verdict: PlanVerdict,
  settings: BillingSettings,
): Promise<BillingChange> {
  if (verdict.plan !== planBefore) await accounts.enqueueKeycloakSync(tx, userId, "plan");
  const { suspended, resumed } = await reconcileSuspensions(
    tx,
    userId,
    quotaFor(verdict.plan, settings),
  );
  return {
    planBefore,
    planAfter: verdict.plan,
    graceEndsAt: verdict.graceEndsAt,
    suspended,
    resumed,
  };
}

/**
 * Marks which of the user's bouncers are suspended for `quota` (the worker then disables or
 * enables their soju users): the oldest `quota` stay, newer ones are suspended, the oldest
 * suspended resume first. Bouncers being deleted do not count. Also called after a bouncer is
 * deleted, which may free a place.
 */
export async function reconcileSuspensions(
  tx: AccountsDbOrTx,
  userId: string,
  quota: number,
): Promise<{ suspended: string[]; resumed: string[] }> {
  const { rows } = await tx.execute<{
    namespace: string;
    name: string;
    created: Date | string;
    suspended: boolean;
  }>(sql`
    SELECT namespace, name,
           coalesce((resource #>> '{metadata,creationTimestamp}')::timestamptz, created_at) AS created,
           suspended_at IS NOT NULL AS suspended
      FROM bouncers
     WHERE owner_id = ${userId}
       AND (resource IS NULL OR resource #> '{metadata,deletionTimestamp}' IS NULL)
     ORDER BY name
       FOR UPDATE`);
  const plan = suspensionPlan(
    rows.map((r) => ({ name: r.name, createdAt: new Date(r.created), suspended: r.suspended })),
    quota,
  );
  const namespaceOf = new Map(rows.map((r) => [r.name, r.namespace]));
  for (const name of plan.suspend)
    await tx.execute(sql`
      UPDATE bouncers SET suspended_at = now(), suspended_reason = ${OVER_QUOTA}
       WHERE namespace = ${namespaceOf.get(name)!} AND name = ${name} AND owner_id = ${userId}`);
  for (const name of plan.resume)
    await tx.execute(sql`
      UPDATE bouncers SET suspended_at = NULL, suspended_reason = NULL
       WHERE namespace = ${namespaceOf.get(name)!} AND name = ${name} AND owner_id = ${userId}`);
  return { suspended: plan.suspend, resumed: plan.resume };
}
