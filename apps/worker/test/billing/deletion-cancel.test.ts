import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStripeClient, type Stripe } from "@irc-now/billing";
import { accounts } from "@irc-now/db";
import {
  payCheckout,
  startStripeStandin,
  TEST_CARDS,
  type StripeStandin,
} from "@irc-now/standins/stripe";
import { stripeBilling } from "../../src/account-deletion/billing";
import { advanceDeletions } from "../../src/account-deletion/run";
import { startDeletionWorld, type DeletionWorld, type Seeded } from "../account-deletion/support";

// An account deletion cancels the user's subscription (issue 14) through the worker's production
// wiring (STRIPE_SECRET_KEY + STRIPE_API_URL → createStripeClient → stripeBilling) against the
// Stripe stand-in, over a real PostgreSQL and the Kubernetes, ergo and Keycloak stand-ins.

let stripe: StripeStandin;
let client: Stripe;
let world: DeletionWorld;
let keyless: DeletionWorld;

beforeAll(async () => {
  stripe = await startStripeStandin();
  client = createStripeClient({ secretKey: stripe.secretKey, apiUrl: stripe.url });
  world = await startDeletionWorld(inject("postgresUrl"), "deletion_cancel", {
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_API_URL: stripe.url,
  });
  keyless = await startDeletionWorld(inject("postgresUrl"), "deletion_keyless");
});
afterAll(async () => {
  await world?.stop();
  await keyless?.stop();
  await stripe?.stop();
});

/** An active pro subscription bought through the stand-in's hosted Checkout with 4242…. */
async function subscribe(email: string): Promise<{ customer: string; subscription: string }> {
  const customer = await client.customers.create({ email });
  const session = await client.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: stripe.proPriceId, quantity: 1 }],
    success_url: "http://localhost:3000/billing?checkout=success",
  });
  const paid = await payCheckout(session, TEST_CARDS.pays);
  if (paid.status !== 303) throw new Error(`checkout did not pay: ${paid.status}`);
  const done = await client.checkout.sessions.retrieve(session.id);
  return { customer: customer.id, subscription: done.subscription as string };
}

/** The deletion row as the web writes it for a subscriber (ids copied from the user row). */
async function requestWithSubscription(
  w: DeletionWorld,
  user: Seeded,
  ids: { customer: string; subscription: string },
): Promise<string> {
  const id = await w.requestDeletion(user);
  await w.w.db
    .update(accounts.accountDeletions)
    .set({ stripeCustomerId: ids.customer, stripeSubscriptionId: ids.subscription })
    .where(eq(accounts.accountDeletions.id, id));
  return id;
}

describe("account deletion and the subscription", () => {
  it("cancels the subscription at once, then finishes", async () => {
    const ids = await subscribe("dora@example.test");
    expect(stripe.subscription(ids.subscription).status).toBe("active");
    const dora = await world.seedUser("dora", []);
    const jobId = await requestWithSubscription(world, dora, ids);

    await advanceDeletions(world.w.deletionDeps);
    const job = await world.job(jobId);
    expect(job).toMatchObject({ step: "done", lastError: null });
    expect(stripe.subscription(ids.subscription).status).toBe("canceled");
  });

  it("a subscription already canceled, or unknown to Stripe, counts as done (idempotent)", async () => {
    const ids = await subscribe("dave@example.test");
    const billing = stripeBilling(client);
    await billing.cancelSubscription({
      customerId: ids.customer,
      subscriptionId: ids.subscription,
    });
    expect(stripe.subscription(ids.subscription).status).toBe("canceled");
    const cancels = () => stripe.events().filter((e) => e.type === "customer.subscription.deleted");
    const before = cancels().length;
    // again (a retried step): no error, nothing new at Stripe
    await billing.cancelSubscription({
      customerId: ids.customer,
      subscriptionId: ids.subscription,
    });
    expect(cancels().length).toBe(before);
    await billing.cancelSubscription({ customerId: ids.customer, subscriptionId: "sub_gone123" });
    await billing.cancelSubscription({ customerId: null, subscriptionId: null });

    // and through a whole deletion whose subscription was canceled in the portal first
    const dave = await world.seedUser("dave", []);
    const jobId = await requestWithSubscription(world, dave, ids);
    await advanceDeletions(world.w.deletionDeps);
    expect(await world.job(jobId)).toMatchObject({ step: "done", lastError: null });
  });

  it("Stripe unreachable: the cancel fails naming the subscription, never the key, and changes nothing", async () => {
    const ids = await subscribe("dina@example.test");
    const away = stripeBilling(
      createStripeClient({ secretKey: stripe.secretKey, apiUrl: "http://127.0.0.1:9" }),
    );
    const error = await away
      .cancelSubscription({ customerId: ids.customer, subscriptionId: ids.subscription })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toContain(ids.subscription);
    expect(error?.message).not.toContain(stripe.secretKey);
    expect(stripe.subscription(ids.subscription).status).toBe("active");
  });

  it("a worker without STRIPE_SECRET_KEY stops a subscriber's deletion at the subscription step with a clear last_error; a user without one passes", async () => {
    const ids = await subscribe("kim@example.test");
    const kim = await keyless.seedUser("kim", []);
    const jobId = await requestWithSubscription(keyless, kim, ids);
    await advanceDeletions(keyless.w.deletionDeps);
    const job = await keyless.job(jobId);
    expect(job.step).toBe("subscription");
    expect(job.lastError).toContain("STRIPE_SECRET_KEY");
    expect(stripe.subscription(ids.subscription).status).toBe("active");

    const kay = await keyless.seedUser("kay", []);
    const plain = await keyless.requestDeletion(kay);
    await advanceDeletions(keyless.w.deletionDeps);
    expect(await keyless.job(plain)).toMatchObject({ step: "done", lastError: null });
  });
});
