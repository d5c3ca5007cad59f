import { startStripeStandin, TEST_CARDS } from "@irc-now/standins/stripe";
import type { Env, LocalService } from "../stack";

/** Where the portal receives Stripe's webhooks (DESIGN.md §2: `/api/stripe/webhook`). */
export const STRIPE_WEBHOOK_PATH = "/api/stripe/webhook";

const spaced = (card: string) => card.replace(/(\d{4})(?=\d)/g, "$1 ");

/**
 * The Stripe stand-in (API, hosted Checkout and Billing Portal, signed webhooks to the web's
 * `${AUTH_URL}/api/stripe/webhook`), unless STRIPE_API_URL or STRIPE_SECRET_KEY names a real
 * (or another) Stripe. Exports STRIPE_API_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and
 * STRIPE_PRICE_PRO to the web; the secrets never appear in the banner.
 */
export const stripeService: LocalService = {
  name: "stripe",
  async start(env: Env) {
    if (env.STRIPE_API_URL || env.STRIPE_SECRET_KEY)
      return {
        info: [
          `using Stripe at ${env.STRIPE_API_URL ?? "api.stripe.com"} (STRIPE_* given); forward its webhooks to ${webhookUrl(env)}`,
        ],
        stop: async () => undefined,
      };
    const target = webhookUrl(env);
    const standin = await startStripeStandin({
      port: Number(env.DEV_STRIPE_PORT ?? 0),
      webhookEndpoints: [target],
      log: (line) => console.log(`stripe    ${line}`),
    });
    return {
      env: {
        STRIPE_API_URL: standin.url,
        STRIPE_SECRET_KEY: standin.secretKey,
        STRIPE_WEBHOOK_SECRET: standin.webhookSecret,
        STRIPE_PRICE_PRO: standin.proPriceId,
      },
      info: [
        `Stripe stand-in: ${standin.url}  (API ${standin.apiVersion}, STRIPE_PRICE_PRO=${standin.proPriceId}, the keys go to the web's environment only)`,
        `webhooks → ${target}  (signed with STRIPE_WEBHOOK_SECRET)`,
        `control: ${standin.url}/_standin  (renew, fail a payment, out-of-order and duplicate deliveries)`,
        `test cards: ${spaced(TEST_CARDS.pays)} pays, ${spaced(TEST_CARDS.declined)} is declined`,
      ],
      stop: () => standin.stop(),
    };
  },
};

/** The web listens on 127.0.0.1; `localhost` in AUTH_URL is the browser's name for it. */
function webhookUrl(env: Env): string {
  const base = new URL(env.AUTH_URL ?? `http://localhost:${env.PORT ?? 3000}`);
  if (base.hostname === "localhost") base.hostname = "127.0.0.1";
  return new URL(STRIPE_WEBHOOK_PATH, base).toString();
}
