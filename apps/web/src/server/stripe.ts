import "server-only";
import { createStripeClient, type Stripe } from "@irc-now/billing";
import { env } from "~/env";

// One client per server process and settings (survives Next's dev-mode module reloads).
const globalForStripe = globalThis as unknown as { stripe?: { key: string; client: Stripe } };

/** stripe-node for the web: `STRIPE_SECRET_KEY`, at `STRIPE_API_URL` when set (the stand-in). */
export function stripeClient(): Stripe {
  const { STRIPE_SECRET_KEY: secretKey, STRIPE_API_URL: apiUrl } = env();
  const key = `${apiUrl ?? ""} ${secretKey}`;
  if (globalForStripe.stripe?.key !== key)
    globalForStripe.stripe = { key, client: createStripeClient({ secretKey, apiUrl }) };
  return globalForStripe.stripe.client;
}
