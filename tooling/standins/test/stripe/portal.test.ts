import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portalAction, startFixture, types, type Fixture } from "./helpers";
import { subscribe } from "./subscribe";

// The Billing Portal: a session from stripe-node, then the hosted page's buttons as plain form
// posts; each change reaches the test endpoint as a verified event.
let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(() => f.stop());

const since = (n: number) => f.receiver.received.slice(n);

describe("Billing Portal", () => {
  it("creates a session whose page lists the subscription and links back to return_url", async () => {
    const { customer, subscription } = await subscribe(f, "portal1@example.test");
    const portal = await f.stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "http://localhost:3000/billing",
    });
    expect(portal).toMatchObject({
      object: "billing_portal.session",
      customer: customer.id,
      return_url: "http://localhost:3000/billing",
      livemode: false,
    });
    expect(portal.url).toBe(`${f.standin.url}/p/session/${portal.id}`);
    const html = await (await fetch(portal.url)).text();
    expect(html).toContain("portal1@example.test");
    expect(html).toContain(`data-status="active"`);
    expect(html).toContain('<a id="return" href="http://localhost:3000/billing">');
    expect(html).toContain(
      '<button type="submit" class="secondary">Cancel at end of period</button>',
    );
    expect(html).toContain('<button type="submit" class="danger">Cancel immediately</button>');
    expect(subscription.status).toBe("active");
    await expect(
      f.stripe.billingPortal.sessions.create({ customer: "cus_nope" }),
    ).rejects.toMatchObject({ code: "resource_missing", param: "customer" });
  });

  it("cancels at period end and resumes, each one customer.subscription.updated with previous_attributes", async () => {
    const { customer, subscription } = await subscribe(f, "portal2@example.test");
    const portal = await f.stripe.billingPortal.sessions.create({ customer: customer.id });
    const periodEnd = subscription.items.data[0]!.current_period_end;

    const n = f.receiver.received.length;
    const cancel = await portalAction(portal.url, "Cancel at end of period");
    expect(cancel.status).toBe(303);
    expect(cancel.location).toBe(`/p/session/${portal.id}?done=cancel_at_period_end`);
    const scheduled = await f.stripe.subscriptions.retrieve(subscription.id);
    expect(scheduled).toMatchObject({
      status: "active",
      cancel_at_period_end: true,
      cancel_at: periodEnd,
      cancellation_details: { reason: "cancellation_requested" },
    });
    expect(scheduled.canceled_at).toEqual(expect.any(Number));
    const page = await (await fetch(`${f.standin.url}${cancel.location!}`)).text();
    expect(page).toContain("Your subscription will be canceled at the end of the billing period.");
    expect(page).toContain("Resume subscription");

    const resume = await portalAction(portal.url, "Resume subscription");
    expect(resume.status).toBe(303);
    const resumed = await f.stripe.subscriptions.retrieve(subscription.id);
    expect(resumed).toMatchObject({
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
    });

    await f.standin.idle();
    const got = since(n);
    expect(types(got)).toEqual(["customer.subscription.updated", "customer.subscription.updated"]);
    expect(got[0]!.event.data.previous_attributes).toEqual({
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { reason: null },
    });
    expect((got[0]!.event.data.object as Stripe.Subscription).cancel_at_period_end).toBe(true);
    expect(got[1]!.event.data.previous_attributes).toMatchObject({ cancel_at_period_end: true });
  });

  it("cancels now: canceled, customer.subscription.deleted, and no more buttons", async () => {
    const { customer, subscription } = await subscribe(f, "portal3@example.test");
    const portal = await f.stripe.billingPortal.sessions.create({ customer: customer.id });
    const n = f.receiver.received.length;
    const res = await portalAction(portal.url, "Cancel immediately");
    expect(res.status).toBe(303);
    const canceled = await f.stripe.subscriptions.retrieve(subscription.id);
    expect(canceled).toMatchObject({ status: "canceled", cancel_at_period_end: false });
    expect(canceled.ended_at).toEqual(expect.any(Number));
    await f.standin.idle();
    const got = since(n);
    expect(types(got)).toEqual(["customer.subscription.deleted"]);
    expect(got[0]!.event.data).not.toHaveProperty("previous_attributes");
    expect((got[0]!.event.data.object as Stripe.Subscription).status).toBe("canceled");
    const html = await (await fetch(portal.url)).text();
    expect(html).not.toContain("Cancel immediately");
    expect(html).toContain(`data-status="canceled"`);
    // Canceled subscriptions leave the default list; status=all still has them.
    expect((await f.stripe.subscriptions.list({ customer: customer.id })).data).toEqual([]);
    const all = await f.stripe.subscriptions.list({ customer: customer.id, status: "all" });
    expect(all.data.map((s) => s.id)).toEqual([subscription.id]);
  });

  it("refuses a subscription of another customer on a portal page", async () => {
    const mine = await subscribe(f, "portal4@example.test");
    const other = await subscribe(f, "portal5@example.test");
    const portal = await f.stripe.billingPortal.sessions.create({ customer: mine.customer.id });
    const res = await fetch(portal.url, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ subscription: other.subscription.id, action: "cancel_now" }),
    });
    expect(res.status).toBe(400);
    expect((await f.stripe.subscriptions.retrieve(other.subscription.id)).status).toBe("active");
  });
});

describe("subscriptions through the API", () => {
  it("updates cancel_at_period_end and metadata in one event, and cancels with DELETE", async () => {
    const { subscription } = await subscribe(f, "api1@example.test");
    const n = f.receiver.received.length;
    const updated = await f.stripe.subscriptions.update(
      subscription.id,
      { cancel_at_period_end: true, metadata: { note: "x" } },
      { idempotencyKey: "sub-update-1" },
    );
    expect(updated).toMatchObject({ cancel_at_period_end: true, metadata: { note: "x" } });
    const canceled = await f.stripe.subscriptions.cancel(subscription.id);
    expect(canceled.status).toBe("canceled");
    await expect(f.stripe.subscriptions.cancel(subscription.id)).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
    });
    await expect(
      f.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: false }),
    ).rejects.toMatchObject({
      message: "A canceled subscription can only update its cancellation_details and metadata.",
    });
    await f.standin.idle();
    const got = since(n);
    expect(types(got)).toEqual(["customer.subscription.updated", "customer.subscription.deleted"]);
    expect(got[0]!.event.request?.idempotency_key).toBe("sub-update-1");
    expect(got[0]!.event.data.previous_attributes).toMatchObject({
      cancel_at_period_end: false,
      metadata: { note: null },
    });
    await expect(f.stripe.subscriptions.retrieve("sub_nope")).rejects.toMatchObject({
      statusCode: 404,
      message: "No such subscription: 'sub_nope'",
    });
  });
});
