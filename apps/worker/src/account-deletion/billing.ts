import type { Stripe } from "@irc-now/billing";
import type { BillingPort } from "./ports";

/** Stripe statuses after which nothing is charged again: the cancellation is already done. */
const ENDED = new Set(["canceled", "incomplete_expired"]);

/** stripe-node's error fields we read (StripeError), without depending on its classes. */
function stripeErrorOf(error: unknown): { statusCode?: number; code?: string; message: string } {
  if (error instanceof Error) {
    const e = error as Error & { statusCode?: unknown; code?: unknown };
    return {
      message: e.message,
      ...(typeof e.statusCode === "number" ? { statusCode: e.statusCode } : {}),
      ...(typeof e.code === "string" ? { code: e.code } : {}),
    };
  }
  return { message: String(error) };
}

const missing = (e: { statusCode?: number; code?: string }) =>
  e.statusCode === 404 || e.code === "resource_missing";

/**
 * The deletion's subscription step with Stripe: the subscription is canceled at once (not at
 * period end: the account is going away). A subscription already ended, or unknown to Stripe,
 * counts as done, so a retried step (or a webhook-side cancel that came first) passes. Errors
 * name the subscription id (an admin looks it up), never the key.
 */
export function stripeBilling(stripe: Pick<Stripe, "subscriptions">): BillingPort {
  const ended = async (id: string): Promise<boolean> => {
    try {
      return ENDED.has((await stripe.subscriptions.retrieve(id)).status);
    } catch (error) {
      const e = stripeErrorOf(error);
      if (missing(e)) return true;
      throw new Error(`Stripe did not answer about subscription ${id}: ${e.message}`);
    }
  };
  return {
    async cancelSubscription({ subscriptionId }) {
      if (subscriptionId === null) return;
      if (await ended(subscriptionId)) return;
      try {
        await stripe.subscriptions.cancel(subscriptionId, undefined, {
          idempotencyKey: `irc-now-account-deletion-cancel-${subscriptionId}`,
        });
      } catch (error) {
        // Canceled meanwhile (the user in the portal, a retry whose answer was lost): done.
        if (await ended(subscriptionId)) return;
        throw new Error(
          `Stripe did not cancel subscription ${subscriptionId}: ${stripeErrorOf(error).message}`,
        );
      }
    },
  };
}

/**
 * A worker without STRIPE_SECRET_KEY: a user without a subscription id passes; one with a
 * subscription stops the deletion at this step with words an admin can act on, rather than
 * deleting the account while Stripe keeps charging it.
 */
export const noBilling: BillingPort = {
  async cancelSubscription({ subscriptionId }) {
    if (subscriptionId === null) return;
    throw new Error(
      "the user has a Stripe subscription and this worker has no STRIPE_SECRET_KEY to cancel it: give the worker the key (its Secret), or cancel it in Stripe and clear the stripe_subscription_id of its account_deletions row; the deletion then retries",
    );
  },
};
