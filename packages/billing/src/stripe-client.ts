import Stripe from "stripe";
import type { SubscriptionSnapshot } from "./apply";

/**
 * The one Stripe API version we speak: the one stripe-node pins (its types describe it, and the
 * stand-in speaks only it). Since basil the billing period lives on the subscription's items and
 * an invoice names its subscription at `parent.subscription_details.subscription`.
 */
export const STRIPE_API_VERSION = Stripe.API_VERSION;

export interface StripeClientOptions {
  /** STRIPE_SECRET_KEY */
  secretKey: string;
  /** STRIPE_API_URL (the stand-in in dev and tests); Stripe itself when absent. */
  apiUrl?: string;
  /** Per-request timeout; stripe-node's own default is 80 s, too long for a page. */
  timeoutMs?: number;
}

export { Stripe };

export function createStripeClient(options: StripeClientOptions): Stripe {
  const target = options.apiUrl ? new URL(options.apiUrl) : null;
  return new Stripe(options.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 2,
    timeout: options.timeoutMs ?? 10_000,
    ...(target
      ? {
          host: target.hostname,
          port: target.port || (target.protocol === "https:" ? 443 : 80),
          protocol: target.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}

/** A re-read subscription: what `applySubscription` takes, plus whose it says it is. */
export interface StripeSubscriptionView extends SubscriptionSnapshot {
  /** `metadata.user_id` (set through Checkout's `subscription_data.metadata`). */
  metadataUserId: string | null;
}

/** Maps the pinned API version's Subscription to a snapshot. */
export function subscriptionSnapshot(sub: Stripe.Subscription): StripeSubscriptionView {
  const periodEnd = sub.items.data[0]?.current_period_end;
  return {
    id: sub.id,
    customerId: typeof sub.customer === "string" ? sub.customer : sub.customer.id,
    status: sub.status,
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    periodEnd: typeof periodEnd === "number" ? new Date(periodEnd * 1000) : null,
    metadataUserId: sub.metadata?.user_id || null,
  };
}

/**
 * Stripe's current state of a subscription (a canceled one is still readable, status
 * `canceled`). Rejects with stripe-node's errors (`StripeConnectionError` when Stripe is away).
 */
export async function readSubscription(
  stripe: Stripe,
  id: string,
): Promise<StripeSubscriptionView> {
  return subscriptionSnapshot(await stripe.subscriptions.retrieve(id));
}
