import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFixture, types, type Fixture } from "./helpers";
import { subscribe } from "./subscribe";

// The subscription's life after checkout and the delivery knobs, through the control surface
// (in-process and over HTTP). Retries wait 20/40/80 ms here; `idle()` waits for them.
let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(() => f.stop());
beforeEach(async () => {
  await f.standin.idle();
});

const since = (n: number) => f.receiver.received.slice(n);
const sub = (r: { event: Stripe.Event }) => r.event.data.object as Stripe.Subscription;
const inv = (r: { event: Stripe.Event }) => r.event.data.object as Stripe.Invoice;

describe("renewal and payment failure", () => {
  it("renews: the next period starts, its invoice is paid", async () => {
    const { subscription } = await subscribe(f, "renew@example.test");
    const first = subscription.items.data[0]!;
    const n = f.receiver.received.length;
    f.standin.control.renew(subscription.id);
    await f.standin.idle();
    const got = since(n);
    expect(types(got)).toEqual(["customer.subscription.updated", "invoice.paid"]);
    const item = sub(got[0]!).items.data[0]!;
    expect(item.current_period_start).toBe(first.current_period_end);
    expect(item.current_period_end).toBeGreaterThan(first.current_period_end);
    expect(got[0]!.event.data.previous_attributes).toHaveProperty("items");
    expect(got[0]!.event.data.previous_attributes).toHaveProperty("latest_invoice");
    expect(inv(got[1]!)).toMatchObject({
      status: "paid",
      billing_reason: "subscription_cycle",
      parent: { subscription_details: { subscription: subscription.id } },
    });
    expect(inv(got[1]!).lines.data[0]!.period).toEqual({
      start: item.current_period_start,
      end: item.current_period_end,
    });
    const now = await f.stripe.subscriptions.retrieve(subscription.id);
    expect(now.latest_invoice).toBe(inv(got[1]!).id);
  });

  it("fails the renewal: past_due with invoice.payment_failed; a retry fails again; then unpaid; pay recovers", async () => {
    const { subscription } = await subscribe(f, "fail@example.test");
    const n = f.receiver.received.length;
    f.standin.control.failPayment(subscription.id);
    await f.standin.idle();
    let got = since(n);
    expect(types(got)).toEqual([
      "customer.subscription.updated",
      "invoice.payment_failed",
      "customer.subscription.updated",
    ]);
    expect(inv(got[1]!)).toMatchObject({
      status: "open",
      attempt_count: 1,
      attempted: true,
      customer: subscription.customer,
      parent: { subscription_details: { subscription: subscription.id } },
    });
    expect(inv(got[1]!).next_payment_attempt).toEqual(expect.any(Number));
    expect(sub(got[2]!).status).toBe("past_due");
    expect(got[2]!.event.data.previous_attributes).toEqual({ status: "active" });
    expect((await f.stripe.subscriptions.retrieve(subscription.id)).status).toBe("past_due");

    const m = f.receiver.received.length;
    f.standin.control.failPayment(subscription.id);
    f.standin.control.markUnpaid(subscription.id);
    await f.standin.idle();
    got = since(m);
    expect(types(got)).toEqual(["invoice.payment_failed", "customer.subscription.updated"]);
    expect(inv(got[0]!).attempt_count).toBe(2);
    expect(sub(got[1]!).status).toBe("unpaid");
    expect(() => f.standin.control.renew(subscription.id)).toThrow(/unpaid/);

    const k = f.receiver.received.length;
    f.standin.control.payOpenInvoice(subscription.id);
    await f.standin.idle();
    got = since(k);
    expect(types(got)).toEqual(["invoice.paid", "customer.subscription.updated"]);
    expect(sub(got[1]!).status).toBe("active");
    const invoices = await f.stripe.invoices.list({ subscription: subscription.id });
    expect(invoices.data.map((i) => i.status)).toEqual(["paid", "paid"]);
  });

  it("ends a subscription set to cancel at period end when the period ends", async () => {
    const { subscription } = await subscribe(f, "ending@example.test");
    await f.stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    await f.standin.idle();
    const n = f.receiver.received.length;
    f.standin.control.renew(subscription.id);
    await f.standin.idle();
    expect(types(since(n))).toEqual(["customer.subscription.deleted"]);
    const ended = await f.stripe.subscriptions.retrieve(subscription.id);
    expect(ended.status).toBe("canceled");
    expect(ended.ended_at).toBe(subscription.items.data[0]!.current_period_end);
  });
});

describe("delivery", () => {
  it("delivers an old customer.subscription.updated after the deleted (out of order)", async () => {
    const { subscription } = await subscribe(f, "order@example.test");
    const n = f.receiver.received.length;
    const sent = f.standin.control.outOfOrderCancel(subscription.id);
    expect(sent.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.deleted",
    ]);
    await f.standin.idle();
    const got = since(n);
    expect(types(got)).toEqual(["customer.subscription.deleted", "customer.subscription.updated"]);
    expect(got[1]!.event.id).toBe(sent[0]!.id);
    expect(sub(got[1]!).status).toBe("active");
    expect(got[1]!.event.created).toBeLessThanOrEqual(got[0]!.event.created);
    expect((await f.stripe.subscriptions.retrieve(subscription.id)).status).toBe("canceled");
  });

  it("holds any matching events until release", async () => {
    const { subscription } = await subscribe(f, "hold@example.test");
    f.standin.control.hold({ type: "invoice.paid" });
    const n = f.receiver.received.length;
    f.standin.control.renew(subscription.id);
    await f.standin.idle();
    expect(types(since(n))).toEqual(["customer.subscription.updated"]);
    const released = f.standin.control.release();
    expect(released).toHaveLength(1);
    await f.standin.idle();
    expect(types(since(n))).toEqual(["customer.subscription.updated", "invoice.paid"]);
  });

  it("duplicates an event: same id and body, sequentially and concurrently, each verifiable", async () => {
    const { subscription } = await subscribe(f, "dup@example.test");
    const [updated] = (() => {
      const n = f.standin.events().length;
      f.standin.control.renew(subscription.id);
      return f.standin.events().slice(n);
    })();
    await f.standin.idle();
    const n = f.receiver.received.length;
    await f.standin.control.duplicate(updated!.id);
    const concurrent = await f.standin.control.duplicate(updated!.id, 3, true);
    expect(concurrent.map((d) => d.status)).toEqual([200, 200, 200]);
    const got = since(n);
    expect(got.map((r) => r.event.id)).toEqual(Array(4).fill(updated!.id));
    const original = f.receiver.received.find((r) => r.event.id === updated!.id)!;
    for (const r of got) expect(r.raw).toBe(original.raw);
    const log = f.standin.deliveries().filter((d) => d.eventId === updated!.id);
    expect(log.map((d) => d.kind)).toEqual([
      "delivery",
      "duplicate",
      "duplicate",
      "duplicate",
      "duplicate",
    ]);
    // The concurrent ones overlapped in time.
    const dupes = log.slice(2);
    const starts = dupes.map((d) => Date.parse(d.startedAt));
    const ends = dupes.map((d) => Date.parse(d.startedAt) + d.durationMs);
    expect(Math.max(...starts)).toBeLessThanOrEqual(Math.min(...ends));
  });

  it("retries after a 500 until the endpoint answers 2xx, with the same event id", async () => {
    const { subscription } = await subscribe(f, "retry@example.test");
    f.receiver.failNext(2, 500, "invoice.payment_failed");
    const n = f.receiver.received.length;
    const event = f.standin.control
      .failPayment(subscription.id)
      .find((e) => e.type === "invoice.payment_failed");
    await f.standin.idle();
    const log = f.standin.deliveries().filter((d) => d.eventId === event!.id);
    expect(log.map((d) => [d.kind, d.attempt, d.status])).toEqual([
      ["delivery", 1, 500],
      ["retry", 2, 500],
      ["retry", 3, 200],
    ]);
    // Later events were not held up by the retries: they arrived before the retried one.
    const got = since(n);
    expect(got.map((r) => r.event.type)).toEqual([
      "customer.subscription.updated",
      "customer.subscription.updated",
      "invoice.payment_failed",
    ]);
    expect(got[2]!.event.id).toBe(event!.id);
  });

  it("retries a delivery that times out, and gives up after the last retry", async () => {
    const g = await startFixture({ webhookTimeoutMs: 500 });
    try {
      const { subscription } = await subscribe(g, "timeout@example.test");
      g.receiver.hangNext(1, 3_000);
      const [event] = g.standin.control.renew(subscription.id);
      await g.standin.idle();
      const log = g.standin.deliveries().filter((d) => d.eventId === event!.id);
      expect(log.map((d) => [d.kind, d.status, d.error])).toEqual([
        ["delivery", null, "timed out"],
        ["retry", 200, null],
      ]);

      g.receiver.failNext(10, 503);
      const [gone] = g.standin.control.failPayment(subscription.id);
      await g.standin.idle();
      const attempts = g.standin.deliveries().filter((d) => d.eventId === gone!.id);
      expect(attempts.map((d) => d.status)).toEqual([503, 503, 503, 503]);
    } finally {
      await g.stop();
    }
  });

  it("re-sends with a stale timestamp, which constructEvent refuses with its default tolerance", async () => {
    const { subscription } = await subscribe(f, "stale@example.test");
    const [event] = f.standin.control.renew(subscription.id);
    await f.standin.idle();
    const rejected = f.receiver.rejected.length;
    const [stale] = await f.standin.control.resend(event!.id, 600);
    expect(stale).toMatchObject({ kind: "stale", status: 400 });
    expect(stale!.signatureTimestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 600);
    expect(f.receiver.rejected.slice(rejected).map((r) => r.reason)).toEqual([
      expect.stringMatching(/Timestamp outside the tolerance zone/),
    ]);
    const [fresh] = await f.standin.control.resend(event!.id);
    expect(fresh).toMatchObject({ kind: "resend", status: 200 });
  });

  it("signs with the endpoint's own secret when it has one (a wrong one is refused by the endpoint)", async () => {
    const g = await startFixture();
    try {
      g.standin.addWebhookEndpoint({
        url: g.receiver.url,
        secret: "whsec_not_the_receivers",
        enabledEvents: ["invoice.paid"],
      });
      const { subscription } = await subscribe(g, "secret@example.test");
      const rejected = g.receiver.rejected.length;
      g.standin.control.renew(subscription.id);
      await g.standin.idle();
      // Only invoice.paid goes to the second endpoint; it fails verification there, 1 + 3 retries.
      expect(g.receiver.rejected.length - rejected).toBe(4);
      expect(g.receiver.rejected.at(-1)!.reason).toMatch(
        /No signatures found matching the expected signature/,
      );
      expect(types(g.receiver.received).filter((t) => t === "invoice.paid")).toHaveLength(2);
    } finally {
      await g.stop();
    }
  });
});

describe("control over HTTP", () => {
  it("runs the same actions as JSON for curl, and as a page for a browser", async () => {
    const { subscription } = await subscribe(f, "http@example.test");
    const post = (path: string, body?: Record<string, string>, accept = "application/json") =>
      fetch(`${f.standin.url}${path}`, {
        method: "POST",
        redirect: "manual",
        headers: { accept, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body ?? {}).toString(),
      });
    const renewed = await post(`/_standin/subscriptions/${subscription.id}/renew`);
    expect(renewed.status).toBe(200);
    const body = (await renewed.json()) as { events: { id: string; type: string }[] };
    expect(body.events.map((e) => e.type)).toEqual([
      "customer.subscription.updated",
      "invoice.paid",
    ]);

    await f.standin.idle();
    const dup = await post(`/_standin/events/${body.events[1]!.id}/duplicate`, {
      times: "2",
      concurrent: "true",
    });
    expect(((await dup.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(2);

    const browser = await post(
      `/_standin/subscriptions/${subscription.id}/fail-payment`,
      {},
      "text/html",
    );
    expect(browser.status).toBe(303);
    expect(browser.headers.get("location")).toMatch(/^\/_standin\?message=fail-payment/);
    const page = await (await fetch(`${f.standin.url}${browser.headers.get("location")!}`)).text();
    expect(page).toContain("<h1>Stripe stand-in control</h1>");
    expect(page).toContain(subscription.id);
    expect(page).toContain("past_due");

    const missing = await post(`/_standin/subscriptions/sub_nope/renew`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "resource_missing" } });

    await f.standin.idle();
    const log = (await (
      await fetch(`${f.standin.url}/_standin/deliveries?event=${body.events[1]!.id}`)
    ).json()) as { kind: string }[];
    expect(log.map((d) => d.kind)).toEqual(["delivery", "duplicate", "duplicate"]);
  });
});
