import { and, eq, gt, ne, sql } from "drizzle-orm";
import { accounts, type AccountsDb, type AccountsDbOrTx } from "@irc-now/db";
import {
  applySubscription,
  readSubscription,
  Stripe,
  type BillingChange,
  type BillingSettings,
  type StripeSubscriptionView,
} from "@irc-now/billing";
import { subscriptionRefOf, type RefResult, type SubscriptionRef } from "./stripe-event-refs";

/**
 * Stripe's webhooks (`POST /api/stripe/webhook`, docs/architecture.md "Billing"):
 * - signed: `constructEvent` with STRIPE_WEBHOOK_SECRET and its default 300 s tolerance; a bad,
 *   missing or stale signature is a 400 and changes nothing;
 * - idempotent: the event id goes into processed_stripe_events in the same transaction as its
 *   effect, first; a delivery that finds it there (or waits on a concurrent one's row and then
 *   finds it) answers "duplicate" and does nothing;
 * - order-proof: the event only says which subscription; its state is re-read from the API and
 *   applied as it is now, so an old `updated` arriving after `deleted` cannot resurrect pro.
 * The re-read happens before the transaction (no lock held across a network call); Stripe being
 * away is a 503, recording nothing, so Stripe delivers again later.
 * Logs name the event id, its type and our user id only: never the body, nor the signature.
 */

export interface WebhookDeps {
  db: AccountsDb;
  stripe: Stripe;
  /** STRIPE_WEBHOOK_SECRET */
  webhookSecret: string;
  settings: BillingSettings;
  now?: () => Date;
  log?: (line: string) => void;
}

export interface WebhookAnswer {
  status: number;
  /** Short words for Stripe's dashboard (it shows the response body). */
  body: string;
}

/** Stripe's events are far smaller (tens of KB); anything bigger is not one. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

/** Re-read-and-apply attempts when a newer delivery for the same user overtakes ours. */
const ATTEMPTS = 3;

const SUBSCRIPTION_TERMINAL = new Set(["canceled", "incomplete_expired"]);

type Outcome = { kind: "duplicate" } | { kind: "recorded"; userId: string | null; outcome: string };

/** Thrown in the transaction to roll it back: a newer delivery for the user committed meanwhile. */
class Overtaken extends Error {}

/** One delivery: verified, then applied once (a repeat is a "duplicate"); the answer for Stripe. */
export async function receiveStripeWebhook(
  deps: WebhookDeps,
  rawBody: string,
  signature: string | null,
): Promise<WebhookAnswer> {
  const log = deps.log ?? ((line: string) => console.info(line));
  if (!signature) return { status: 400, body: "missing Stripe-Signature header" };
  let event: Stripe.Event;
  try {
    event = deps.stripe.webhooks.constructEvent(rawBody, signature, deps.webhookSecret);
  } catch (error) {
    // stripe-node's messages name no secret, but may quote the header: say which case only.
    const stale = error instanceof Error && /tolerance/i.test(error.message);
    log(`stripe webhook refused: ${stale ? "stale signature timestamp" : "bad signature"}`);
    return { status: 400, body: stale ? "signature timestamp too old" : "invalid signature" };
  }

  const refs = subscriptionRefOf(event);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let snapshot: StripeSubscriptionView | null = null;
    // The database's clock, so deliveries on other replicas compare against the same one.
    const readAt = await dbNow(deps.db);
    if (refs.kind === "subscription") {
      try {
        snapshot = await readSubscription(deps.stripe, refs.ref.subscriptionId);
      } catch (error) {
        if (!isMissing(error)) {
          log(
            `stripe webhook ${event.id} ${event.type}: cannot re-read the subscription (${stripeErrorName(error)}); answered 503`,
          );
          return { status: 503, body: "Stripe API unavailable, deliver again" };
        }
      }
    }
    let result: Outcome;
    try {
      result = await deps.db.transaction((tx) =>
        processEvent(tx, deps, event, refs, snapshot, readAt),
      );
    } catch (error) {
      if (error instanceof Overtaken) continue;
      throw error;
    }
    if (result.kind === "duplicate") {
      log(`stripe webhook ${event.id} ${event.type}: duplicate, nothing done`);
      return { status: 200, body: "duplicate" };
    }
    if (result.kind === "recorded") {
      log(
        `stripe webhook ${event.id} ${event.type}: ${result.userId ? `user ${result.userId}: ` : ""}${result.outcome}`,
      );
      return { status: 200, body: result.outcome };
    }
  }
  log(`stripe webhook ${event.id} ${event.type}: overtaken ${ATTEMPTS} times; answered 503`);
  return { status: 503, body: "busy, deliver again" };
}

/** The transaction of one delivery; throws Overtaken to be rolled back and tried again. */
async function processEvent(
  tx: AccountsDbOrTx,
  deps: WebhookDeps,
  event: Stripe.Event,
  refs: RefResult,
  snapshot: StripeSubscriptionView | null,
  readAt: Date,
): Promise<Outcome> {
  // First: a concurrent delivery of the same event waits here on the primary key until the
  // first commits (then sees the conflict) or rolls back (then goes on).
  const inserted = await tx
    .insert(accounts.processedStripeEvents)
    .values({ eventId: event.id, type: event.type })
    .onConflictDoNothing()
    .returning({ eventId: accounts.processedStripeEvents.eventId });
  if (inserted.length === 0) return { kind: "duplicate" };

  const record = async (userId: string | null, outcome: string): Promise<Outcome> => {
    await tx
      .update(accounts.processedStripeEvents)
      .set({ userId, outcome })
      .where(eq(accounts.processedStripeEvents.eventId, event.id));
    return { kind: "recorded", userId, outcome };
  };

  if (refs.kind === "ignored") return record(null, `ignored: ${refs.why}`);
  const { ref } = refs;
  const userId = await findUser(tx, ref, snapshot);
  if (!userId) return record(null, "ignored: not a customer of ours");

  const [user] = await tx
    .select({
      subscriptionId: accounts.users.stripeSubscriptionId,
      status: accounts.users.stripeSubscriptionStatus,
    })
    .from(accounts.users)
    .where(eq(accounts.users.id, userId))
    .for("update");
  if (!user) return record(null, "ignored: not a customer of ours");

  // Another delivery about this user committed after our re-read began: its state may be newer
  // than ours. Roll back and read again.
  const [overtaking] = await tx
    .select({ eventId: accounts.processedStripeEvents.eventId })
    .from(accounts.processedStripeEvents)
    .where(
      and(
        eq(accounts.processedStripeEvents.userId, userId),
        ne(accounts.processedStripeEvents.eventId, event.id),
        gt(accounts.processedStripeEvents.receivedAt, readAt),
      ),
    )
    .limit(1);
  if (overtaking) throw new Overtaken();

  if (!snapshot) {
    // The API does not know the subscription (deleted test data): nothing to apply.
    return record(userId, `ignored: subscription ${ref.subscriptionId} not found at Stripe`);
  }
  // An old subscription's late news (canceled) must not end a newer one the user has now.
  if (
    user.subscriptionId &&
    user.subscriptionId !== snapshot.id &&
    SUBSCRIPTION_TERMINAL.has(snapshot.status) &&
    user.status !== null &&
    !SUBSCRIPTION_TERMINAL.has(user.status)
  )
    return record(
      userId,
      `ignored: ${snapshot.id} (${snapshot.status}) is not the current subscription`,
    );

  const now = deps.now?.() ?? new Date();
  const change = await applySubscription(tx, userId, snapshot, now, deps.settings);
  if (!change) return record(null, "ignored: not a customer of ours");
  return record(userId, describe(snapshot.status, change));
}

/** Whose subscription: our user id as Checkout or the subscription's metadata carries it, else the customer. */
async function findUser(
  tx: AccountsDbOrTx,
  ref: SubscriptionRef,
  snapshot: StripeSubscriptionView | null,
): Promise<string | null> {
  for (const hint of [ref.userIdHint, snapshot?.metadataUserId]) {
    if (!hint || !UUID.test(hint)) continue;
    const [row] = await tx
      .select({ id: accounts.users.id })
      .from(accounts.users)
      .where(eq(accounts.users.id, hint));
    if (row) return row.id;
  }
  const customerId = snapshot?.customerId ?? ref.customerId;
  if (!customerId) return null;
  const [row] = await tx
    .select({ id: accounts.users.id })
    .from(accounts.users)
    .where(eq(accounts.users.stripeCustomerId, customerId));
  return row?.id ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** For the admin's history: e.g. "active: plan free → pro; suspended 0; resumed 1". */
export function describe(status: string, change: BillingChange): string {
  const plan =
    change.planBefore === change.planAfter
      ? `plan ${change.planAfter} unchanged`
      : `plan ${change.planBefore} → ${change.planAfter}`;
  const grace = change.graceEndsAt ? `; grace until ${change.graceEndsAt.toISOString()}` : "";
  return `${status}: ${plan}${grace}; suspended ${change.suspended.length}; resumed ${change.resumed.length}`;
}

async function dbNow(db: AccountsDb): Promise<Date> {
  const { rows } = await db.execute<{ now: Date | string }>(sql`SELECT clock_timestamp() AS now`);
  return new Date(rows[0]!.now);
}

function isMissing(error: unknown): boolean {
  return error instanceof Stripe.errors.StripeInvalidRequestError && error.statusCode === 404;
}

function stripeErrorName(error: unknown): string {
  return error instanceof Stripe.errors.StripeError
    ? error.type
    : error instanceof Error
      ? error.name
      : "error";
}
