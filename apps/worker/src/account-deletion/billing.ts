import type { BillingPort } from "./ports";

/**
 * Until billing exists (Stripe is not wired yet, so no user has a subscription id), there is
 * nothing to cancel. A subscription id here would mean billing landed without replacing this
 * hook: the step then fails with words an admin can act on, rather than deleting the account
 * while Stripe keeps charging it.
 */
export const noBilling: BillingPort = {
  async cancelSubscription({ subscriptionId }) {
    if (subscriptionId === null) return;
    throw new Error(
      "the user has a Stripe subscription and this worker cannot cancel it (billing is not built); cancel it in Stripe, clear the stripe_subscription_id of its account_deletions row, then let the deletion retry",
    );
  },
};
