import { createHash } from "node:crypto";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { planFor, quotaFor, type BillingSettings, type Stripe } from "@irc-now/billing";
import { DomainError } from "./errors";

/**
 * The /billing page and its two redirects (issue 14): Checkout to become pro, the Billing Portal
 * to manage or cancel. Stripe is only ever called from here, on the server; the browser gets a
 * 303 to Stripe's hosted page and never a key. Users read plain words; Stripe's own error text
 * goes to the server log only.
 */

export interface BillingDeps {
  db: AccountsDb;
  stripe: Stripe;
  /** STRIPE_PRICE_PRO */
  pricePro: string;
  /** AUTH_URL: where Stripe sends the browser back. */
  siteUrl: string;
}

export type SubscriptionState =
  "none" | "active" | "trialing" | "past_due" | "canceling" | "canceled" | "other";

export interface BillingOverview {
  plan: "free" | "pro";
  /** What the page says about the subscription. */
  state: SubscriptionState;
  /** Stripe's own status word, for the "other" states (unpaid, incomplete, paused…). */
  stripeStatus: string | null;
  /** Next renewal, or the day a subscription set to cancel ends. */
  periodEnd: Date | null;
  /** While past_due: the day pro ends unless a payment goes through. */
  graceEndsAt: Date | null;
  /** Whether the Billing Portal can be opened (the user has a Stripe customer). */
  hasCustomer: boolean;
  quota: number;
  bouncerCount: number;
  suspendedCount: number;
}

export async function billingOverview(
  db: AccountsDb,
  userId: string,
  settings: BillingSettings,
  now = new Date(),
): Promise<BillingOverview> {
  const [user] = await db.select().from(accounts.users).where(eq(accounts.users.id, userId));
  if (!user)
    throw new DomainError("NOT_FOUND", "Your account was not found. Please sign in again.");
  const status = user.stripeSubscriptionStatus;
  const verdict = planFor({ status, pastDueSince: user.pastDueSince }, now, settings.graceDays);
  const { rows } = await db.execute<{ total: string | number; suspended: string | number }>(sql`
    SELECT count(*) AS total, count(*) FILTER (WHERE suspended_at IS NOT NULL) AS suspended
      FROM bouncers
     WHERE owner_id = ${userId}
       AND (resource IS NULL OR resource #> '{metadata,deletionTimestamp}' IS NULL)`);
  return {
    plan: user.plan,
    state: stateOf(status, user.subscriptionCancelAtPeriodEnd),
    stripeStatus: status,
    periodEnd: user.subscriptionPeriodEnd,
    graceEndsAt: status === "past_due" ? verdict.graceEndsAt : null,
    hasCustomer: user.stripeCustomerId !== null,
    quota: quotaFor(user.plan, settings),
    bouncerCount: Number(rows[0]?.total ?? 0),
    suspendedCount: Number(rows[0]?.suspended ?? 0),
  };
}

function stateOf(status: string | null, cancelAtPeriodEnd: boolean): SubscriptionState {
  switch (status) {
    case null:
      return "none";
    case "active":
    case "trialing":
      return cancelAtPeriodEnd ? "canceling" : status;
    case "past_due":
    case "canceled":
      return status;
    default:
      return "other";
  }
}

/** A subscription that already makes (or will again make) the user pro: no second Checkout. */
const LIVE_STATUSES = new Set(["active", "trialing", "past_due"]);

/**
 * The user's Stripe customer: the stored one, or a new one created once. Concurrent clicks (two
 * tabs, two replicas) queue on a per-user advisory lock and the second finds the first's id; the
 * create also carries an idempotency key derived from the user id (and the email it sends, since
 * Stripe refuses one key with other parameters), so a retry after a lost answer reuses the
 * customer Stripe already made.
 */
export async function ensureStripeCustomer(deps: BillingDeps, userId: string): Promise<string> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT set_config('lock_timeout', '15s', true)`);
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${"stripe-customer:" + userId}, 0))`,
    );
    const [user] = await tx.select().from(accounts.users).where(eq(accounts.users.id, userId));
    if (!user)
      throw new DomainError("NOT_FOUND", "Your account was not found. Please sign in again.");
    if (user.stripeCustomerId) return user.stripeCustomerId;
    const email = user.email ?? undefined;
    const customer = await deps.stripe.customers.create(
      {
        ...(email ? { email } : {}),
        name: user.displayName ?? user.username,
        metadata: { user_id: userId, username: user.username },
      },
      {
        idempotencyKey: customerIdempotencyKey(
          userId,
          email ?? "",
          user.username,
          user.displayName,
        ),
      },
    );
    await tx
      .update(accounts.users)
      .set({ stripeCustomerId: customer.id, updatedAt: sql`now()` })
      .where(and(eq(accounts.users.id, userId)));
    return customer.id;
  });
}

export function customerIdempotencyKey(
  userId: string,
  email: string,
  username: string,
  displayName: string | null,
): string {
  const params = createHash("sha256")
    .update(JSON.stringify([email, username, displayName]))
    .digest("hex")
    .slice(0, 16);
  return `irc-now-customer-${userId}-${params}`;
}

/** Checkout for pro: the URL of Stripe's hosted page to send the browser to. */
export async function startCheckout(deps: BillingDeps, userId: string): Promise<string> {
  const [user] = await deps.db
    .select({
      status: accounts.users.stripeSubscriptionStatus,
      plan: accounts.users.plan,
    })
    .from(accounts.users)
    .where(eq(accounts.users.id, userId));
  if (!user)
    throw new DomainError("NOT_FOUND", "Your account was not found. Please sign in again.");
  if (user.plan === "pro" || (user.status && LIVE_STATUSES.has(user.status)))
    throw new DomainError(
      "CONFLICT",
      "You already have a pro subscription. Use “Manage billing” to change or cancel it.",
    );
  const customer = await ensureStripeCustomer(deps, userId);
  // Paid a moment ago and the webhook is not here yet (or was lost): Stripe knows, so no second
  // subscription. The list holds every subscription that has not ended.
  const current = await deps.stripe.subscriptions.list({ customer, limit: 10 });
  if (current.data.some((s) => LIVE_STATUSES.has(s.status)))
    throw new DomainError(
      "CONFLICT",
      "You already have a pro subscription. Use “Manage billing” to change or cancel it.",
    );
  const session = await deps.stripe.checkout.sessions.create({
    mode: "subscription",
    customer,
    line_items: [{ price: deps.pricePro, quantity: 1 }],
    client_reference_id: userId,
    subscription_data: { metadata: { user_id: userId } },
    success_url: `${pageUrl(deps)}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${pageUrl(deps)}?checkout=canceled`,
  });
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  return session.url;
}

/** The Billing Portal for the user's customer: the URL to send the browser to. */
export async function startPortal(deps: BillingDeps, userId: string): Promise<string> {
  const [user] = await deps.db
    .select({ customer: accounts.users.stripeCustomerId })
    .from(accounts.users)
    .where(and(eq(accounts.users.id, userId), isNotNull(accounts.users.stripeCustomerId)));
  if (!user?.customer)
    throw new DomainError(
      "PRECONDITION_FAILED",
      "You have no billing account yet: there is nothing to manage until you upgrade to pro.",
    );
  const session = await deps.stripe.billingPortal.sessions.create({
    customer: user.customer,
    return_url: pageUrl(deps),
  });
  return session.url;
}

const pageUrl = (deps: BillingDeps) => new URL("/billing", deps.siteUrl).toString();
