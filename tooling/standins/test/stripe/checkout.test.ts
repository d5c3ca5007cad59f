import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../src/stripe";
import { payCheckout, startFixture, types, type Fixture } from "./helpers";

// Checkout through the hosted page, driven by the real stripe-node and a plain HTTP form post;
// every webhook is verified by stripe.webhooks.constructEvent with its default tolerance.
let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(() => f.stop());

async function session(params: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  return f.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: f.standin.proPriceId, quantity: 1 }],
    success_url: "http://localhost:3000/billing?checkout=success&session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost:3000/billing?checkout=canceled",
    ...params,
  });
}

describe("Checkout", () => {
  it("pays with 4242…: subscription active, invoice paid, redirect with the session id, signed events in order", async () => {
    const customer = await f.stripe.customers.create({ email: "alice@example.test" });
    const s = await session({
      customer: customer.id,
      client_reference_id: "user-1",
      metadata: { purpose: "upgrade" },
      subscription_data: { metadata: { user_id: "user-1" } },
    });
    expect(s).toMatchObject({
      object: "checkout.session",
      mode: "subscription",
      status: "open",
      payment_status: "unpaid",
      customer: customer.id,
      client_reference_id: "user-1",
      subscription: null,
    });
    expect(s.url).toBe(`${f.standin.url}/c/pay/${s.id}`);
    const page = await (await fetch(s.url!)).text();
    expect(page).toContain('<label for="cardNumber">Card number</label>');
    expect(page).toContain("alice@example.test");

    const before = f.receiver.received.length;
    const paid = await payCheckout(s, "4242 4242 4242 4242");
    expect(paid.status).toBe(303);
    expect(paid.location).toBe(`http://localhost:3000/billing?checkout=success&session=${s.id}`);

    const done = await f.stripe.checkout.sessions.retrieve(s.id, { expand: ["subscription"] });
    expect(done).toMatchObject({
      status: "complete",
      payment_status: "paid",
      customer: customer.id,
    });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub).toMatchObject({
      status: "active",
      customer: customer.id,
      cancel_at_period_end: false,
      metadata: { user_id: "user-1" },
    });
    const item = sub.items.data[0]!;
    expect(item.price.id).toBe(f.standin.proPriceId);
    expect(item.current_period_end).toBeGreaterThan(item.current_period_start);
    expect(sub).not.toHaveProperty("current_period_end");

    const invoice = await f.stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(invoice).toMatchObject({
      status: "paid",
      billing_reason: "subscription_create",
      customer: customer.id,
      amount_paid: 500,
      parent: { type: "subscription_details", subscription_details: { subscription: sub.id } },
    });
    expect(invoice).not.toHaveProperty("subscription");

    await f.standin.idle();
    const got = f.receiver.received.slice(before);
    expect(types(got)).toEqual([
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
    ]);
    expect(f.receiver.rejected).toEqual([]);
    for (const r of got) {
      expect(r.event.api_version).toBe(f.standin.apiVersion);
      expect(r.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(r.event.request).toEqual({ id: null, idempotency_key: null });
    }
    const completed = got[2]!.event.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({
      id: s.id,
      client_reference_id: "user-1",
      subscription: sub.id,
      customer: customer.id,
      payment_status: "paid",
      status: "complete",
      metadata: { purpose: "upgrade" },
      customer_details: { email: "alice@example.test" },
    });
    // The completed page no longer takes payment.
    const again = await fetch(s.url!);
    expect(await again.text()).toContain("This Checkout Session is complete.");
  });

  it("creates the customer when the session only has customer_email", async () => {
    const s = await session({ customer_email: "bob@example.test", client_reference_id: "user-2" });
    const before = f.receiver.received.length;
    expect((await payCheckout(s, TEST_CARDS.pays)).status).toBe(303);
    const done = await f.stripe.checkout.sessions.retrieve(s.id);
    expect(done.customer).toMatch(/^cus_/);
    const customers = await f.stripe.customers.list({ email: "bob@example.test" });
    expect(customers.data.map((c) => c.id)).toEqual([done.customer]);
    await f.standin.idle();
    expect(types(f.receiver.received.slice(before))).toEqual([
      "customer.created",
      "customer.subscription.created",
      "invoice.paid",
      "checkout.session.completed",
    ]);
  });

  it("asks for an email when the session has neither customer nor customer_email", async () => {
    const s = await session();
    const missing = await payCheckout(s, TEST_CARDS.pays);
    expect(missing.status).toBe(200);
    expect(missing.html).toContain('role="alert">Your email is incomplete.');
    const ok = await payCheckout(s, TEST_CARDS.pays, "carol@example.test");
    expect(ok.status).toBe(303);
    const done = await f.stripe.checkout.sessions.retrieve(s.id, { expand: ["customer"] });
    expect((done.customer as Stripe.Customer).email).toBe("carol@example.test");
  });

  it("declines 4000 0000 0000 0002: the error on the page, a way back to cancel_url, no subscription, no events", async () => {
    const customer = await f.stripe.customers.create({ email: "dave@example.test" });
    const s = await session({ customer: customer.id });
    await f.standin.idle();
    const before = f.receiver.received.length;
    const declined = await payCheckout(s, "4000 0000 0000 0002");
    expect(declined.status).toBe(200);
    expect(declined.html).toContain(
      '<div id="payment-error" class="alert" role="alert">Your card was declined.</div>',
    );
    expect(declined.html).toContain('aria-invalid="true"');
    expect(declined.html).toContain(
      '<a id="cancel" href="http://localhost:3000/billing?checkout=canceled">',
    );
    const after = await f.stripe.checkout.sessions.retrieve(s.id);
    expect(after).toMatchObject({ status: "open", payment_status: "unpaid", subscription: null });
    expect((await f.stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    await f.standin.idle();
    expect(f.receiver.received.length).toBe(before);
    // An invalid number is refused as such; the same session can still be paid afterwards.
    expect((await payCheckout(s, "1234 5678")).html).toContain("Your card number is invalid.");
    expect((await payCheckout(s, TEST_CARDS.pays)).status).toBe(303);
  });

  it("refuses what real Checkout refuses, with Stripe's error shapes", async () => {
    const customer = await f.stripe.customers.create({ email: "erin@example.test" });
    await expect(
      session({ customer: customer.id, customer_email: "erin@example.test" }),
    ).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      message: "You may only specify one of these parameters: customer, customer_email.",
    });
    await expect(
      session({ line_items: [{ price: "price_nope", quantity: 1 }] }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "resource_missing",
      param: "line_items[0][price]",
      message: "No such price: 'price_nope'",
    });
    await expect(session({ customer: "cus_nope" })).rejects.toMatchObject({
      code: "resource_missing",
      param: "customer",
    });
    await expect(session({ line_items: [] })).rejects.toMatchObject({
      code: "parameter_missing",
      param: "line_items",
    });
    await expect(f.stripe.checkout.sessions.retrieve("cs_test_nope")).rejects.toMatchObject({
      statusCode: 404,
      code: "resource_missing",
    });
  });
});
