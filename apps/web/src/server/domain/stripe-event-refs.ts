import { z } from "zod";

/**
 * What a Stripe event says about whose subscription it is, read with zod from `data.object`
 * (the event is already signed; only these fields matter, the rest is re-read from the API).
 */
export interface SubscriptionRef {
  subscriptionId: string;
  /** `client_reference_id` of a Checkout Session: our user id, set when it was created. */
  userIdHint: string | null;
  customerId: string | null;
}

/** The event types that change a subscription's state; any other is recorded and ignored. */
export const SUBSCRIPTION_EVENTS = [
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
] as const;

const idOf = z
  .union([z.string(), z.object({ id: z.string() })])
  .transform((v) => (typeof v === "string" ? v : v.id));

const subscriptionObject = z.object({ id: z.string(), customer: idOf.nullish() });

const checkoutSession = z.object({
  mode: z.string(),
  subscription: idOf.nullish(),
  customer: idOf.nullish(),
  client_reference_id: z.string().nullish(),
});

/** Since basil an invoice names its subscription at `parent.subscription_details.subscription`. */
const invoice = z.object({
  customer: idOf.nullish(),
  parent: z.object({ subscription_details: z.object({ subscription: idOf }).nullish() }).nullish(),
});

export type RefResult =
  | { kind: "subscription"; ref: SubscriptionRef }
  /** Nothing about a subscription (another event type, a payment-mode Checkout, a one-off invoice). */
  | { kind: "ignored"; why: string };

export function subscriptionRefOf(event: { type: string; data: { object: unknown } }): RefResult {
  const object = event.data.object;
  switch (event.type) {
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const sub = subscriptionObject.safeParse(object);
      if (!sub.success) return { kind: "ignored", why: "malformed subscription object" };
      return {
        kind: "subscription",
        ref: {
          subscriptionId: sub.data.id,
          userIdHint: null,
          customerId: sub.data.customer ?? null,
        },
      };
    }
    case "checkout.session.completed": {
      const session = checkoutSession.safeParse(object);
      if (!session.success) return { kind: "ignored", why: "malformed checkout session" };
      if (session.data.mode !== "subscription" || !session.data.subscription)
        return { kind: "ignored", why: `checkout in ${session.data.mode} mode` };
      return {
        kind: "subscription",
        ref: {
          subscriptionId: session.data.subscription,
          userIdHint: session.data.client_reference_id ?? null,
          customerId: session.data.customer ?? null,
        },
      };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const inv = invoice.safeParse(object);
      if (!inv.success) return { kind: "ignored", why: "malformed invoice" };
      const subscriptionId = inv.data.parent?.subscription_details?.subscription;
      if (!subscriptionId) return { kind: "ignored", why: "invoice of no subscription" };
      return {
        kind: "subscription",
        ref: { subscriptionId, userIdHint: null, customerId: inv.data.customer ?? null },
      };
    }
    default:
      return { kind: "ignored", why: `event type ${event.type} not handled` };
  }
}
