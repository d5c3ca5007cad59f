import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  payCheckout,
  startStripeStandin,
  TEST_CARDS,
  type StripeStandin,
} from "@irc-now/standins/stripe";
import {
  createStripeClient,
  readSubscription,
  STRIPE_API_VERSION,
  type Stripe,
} from "../src/stripe-client";

// The real stripe-node against the Stripe stand-in (which refuses any other API version).

let standin: StripeStandin;
let stripe: Stripe;
beforeAll(async () => {
  standin = await startStripeStandin();
  stripe = createStripeClient({ secretKey: standin.secretKey, apiUrl: standin.url });
});
afterAll(() => standin?.stop());

/** A subscription bought through the hosted Checkout page with 4242…. */
async function subscribe(metadata: Record<string, string>): Promise<string> {
  const customer = await stripe.customers.create({ email: "alice@example.test" });
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: standin.proPriceId, quantity: 1 }],
    subscription_data: { metadata },
    success_url: "http://127.0.0.1:3000/billing",
  });
  const paid = await payCheckout(session, TEST_CARDS.pays);
  expect(paid.status).toBe(303);
  return (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
}

describe("createStripeClient", () => {
  it("pins the API version the stand-in speaks and reaches it at STRIPE_API_URL", async () => {
    expect(STRIPE_API_VERSION).toBe("2026-10-28.endive");
    expect(STRIPE_API_VERSION).toBe(standin.apiVersion);
    const customer = await stripe.customers.create({ email: "bob@example.test" });
    expect((await stripe.customers.retrieve(customer.id)).id).toBe(customer.id);
  });

  it("fails with a connection error, not a hang, when Stripe is not there", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const away = createStripeClient({
      secretKey: standin.secretKey,
      apiUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 500,
    });
    await expect(away.customers.list()).rejects.toMatchObject({ type: "StripeConnectionError" });
  });
});

describe("readSubscription", () => {
  it("maps the pinned version's subscription: period end from its first item, metadata.user_id", async () => {
    const id = await subscribe({ user_id: "4f0e7c2a-0000-4000-8000-000000000001" });
    const raw = await stripe.subscriptions.retrieve(id);
    const snap = await readSubscription(stripe, id);
    expect(snap).toEqual({
      id,
      customerId: raw.customer as string,
      status: "active",
      cancelAtPeriodEnd: false,
      periodEnd: new Date(raw.items.data[0]!.current_period_end * 1000),
      metadataUserId: "4f0e7c2a-0000-4000-8000-000000000001",
    });
    expect(snap.periodEnd!.getTime()).toBeGreaterThan(Date.now());

    await stripe.subscriptions.update(id, { cancel_at_period_end: true });
    expect(await readSubscription(stripe, id)).toMatchObject({ cancelAtPeriodEnd: true });
    await stripe.subscriptions.cancel(id);
    expect(await readSubscription(stripe, id)).toMatchObject({ status: "canceled" });
  });

  it("reports no user id when the metadata has none", async () => {
    const id = await subscribe({});
    expect((await readSubscription(stripe, id)).metadataUserId).toBeNull();
  });
});
