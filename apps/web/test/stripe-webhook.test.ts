import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createStripeClient, type Stripe } from "@irc-now/billing";
import { accounts } from "@irc-now/db";
import { freePort } from "@irc-now/db/testing";
import {
  payCheckout,
  startStripeStandin,
  TEST_CARDS,
  type DeliveryRecord,
  type StripeStandin,
} from "@irc-now/standins/stripe";
import type * as WebhookRoute from "../app/api/stripe/webhook/route";
import { receiveStripeWebhook } from "~/server/domain/billing-webhook";
import { useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// Stripe's webhooks end to end: the Stripe stand-in signs and delivers its events over HTTP to a
// tiny server that hands each request to the route module's POST, as Next would; the route
// re-reads subscriptions from the stand-in with the real stripe-node. Real accounts DB.

let world: World;
let standin: StripeStandin;
let stripe: Stripe;
let route: typeof WebhookRoute;
let forwarder: Server;
/** What the route answered, in order. */
const answers: { eventId: string; status: number; body: string }[] = [];
const logged: string[] = [];

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  forwarder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string") headers.set(k, v);
      void route
        .POST(
          new Request("http://127.0.0.1/api/stripe/webhook", {
            method: "POST",
            headers,
            body: raw,
          }),
        )
        .then(async (r) => {
          const body = await r.text();
          answers.push({ eventId: (JSON.parse(raw) as { id: string }).id, status: r.status, body });
          res.writeHead(r.status).end(body);
        });
    });
  });
  await new Promise<void>((r) => forwarder.listen(0, "127.0.0.1", r));
  const { port } = forwarder.address() as AddressInfo;
  standin = await startStripeStandin({
    webhookEndpoints: [`http://127.0.0.1:${port}/api/stripe/webhook`],
    retryDelaysMs: [20, 40],
  });
  stripe = createStripeClient({ secretKey: standin.secretKey, apiUrl: standin.url });
  useWebEnv(world, {
    STRIPE_API_URL: standin.url,
    STRIPE_SECRET_KEY: standin.secretKey,
    STRIPE_WEBHOOK_SECRET: standin.webhookSecret,
    STRIPE_PRICE_PRO: standin.proPriceId,
    PLAN_QUOTA_FREE: "1",
    PLAN_QUOTA_PRO: "3",
    PRO_GRACE_DAYS: "7",
  });
  for (const level of ["log", "info", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
  route = await import("../app/api/stripe/webhook/route");
});
afterEach(async () => {
  standin.control.release();
  await standin.idle();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await standin?.stop();
  await new Promise<void>((r) => (forwarder ? forwarder.close(() => r()) : r()));
  await world?.stop();
});

const db = () => world.db;

/** A portal user with a Stripe customer of theirs (the customer's email is theirs too). */
async function user(): Promise<{ id: string; customer: Stripe.Customer; email: string }> {
  const username = `u${randomUUID().slice(0, 8)}`;
  const email = `${username}@example.test`;
  const customer = await stripe.customers.create({ email });
  const [row] = await db()
    .insert(accounts.users)
    .values({ keycloakSubject: randomUUID(), username, email, stripeCustomerId: customer.id })
    .returning();
  return { id: row!.id, customer, email };
}

/** Checkout as /billing starts it, paid with 4242… on the hosted page; the subscription's id. */
async function checkout(
  customer: Stripe.Customer,
  userId: string | null,
): Promise<{ sessionId: string; subscriptionId: string }> {
  const session = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: standin.proPriceId, quantity: 1 }],
    ...(userId
      ? { client_reference_id: userId, subscription_data: { metadata: { user_id: userId } } }
      : {}),
    success_url: "http://127.0.0.1:3000/billing?checkout=success",
    cancel_url: "http://127.0.0.1:3000/billing?checkout=canceled",
  });
  const paid = await payCheckout(session, TEST_CARDS.pays);
  expect(paid.status).toBe(303);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  return { sessionId: session.id, subscriptionId: done.subscription as string };
}

const userRow = async (id: string) =>
  (await db().select().from(accounts.users).where(eq(accounts.users.id, id)))[0]!;

const outbox = async (userId: string) =>
  (
    await db()
      .select({ reason: accounts.keycloakOutbox.reason })
      .from(accounts.keycloakOutbox)
      .where(eq(accounts.keycloakOutbox.userId, userId))
  ).map((r) => r.reason);

const processed = (eventId: string) =>
  db()
    .select()
    .from(accounts.processedStripeEvents)
    .where(eq(accounts.processedStripeEvents.eventId, eventId));

const eventOf = (type: string, objectId: string) => {
  const found = standin
    .events()
    .filter((e) => e.type === type && (e.data.object as { id: string }).id === objectId);
  expect(found.length, `${type} of ${objectId}`).toBe(1);
  return found[0]!;
};

/** The route's answer to a POST of `body` with `signature` (null: no header). */
async function post(body: string, signature: string | null) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  const r = await route.POST(
    new Request("http://127.0.0.1/api/stripe/webhook", { method: "POST", headers, body }),
  );
  return { status: r.status, body: await r.text() };
}

describe("checkout", () => {
  it("a paid Checkout makes the user pro: subscription columns, one Keycloak outbox row, every event recorded", async () => {
    const u = await user();
    const { sessionId, subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    const row = await userRow(u.id);
    expect(row).toMatchObject({
      plan: "pro",
      stripeSubscriptionId: subscriptionId,
      stripeSubscriptionStatus: "active",
      subscriptionCancelAtPeriodEnd: false,
      pastDueSince: null,
    });
    expect(row.subscriptionPeriodEnd!.getTime()).toBeGreaterThan(Date.now());
    expect(await outbox(u.id)).toEqual(["plan"]);
    const completed = await processed(eventOf("checkout.session.completed", sessionId).id);
    expect(completed).toMatchObject([{ userId: u.id, type: "checkout.session.completed" }]);
    const history = await db()
      .select({
        type: accounts.processedStripeEvents.type,
        outcome: accounts.processedStripeEvents.outcome,
      })
      .from(accounts.processedStripeEvents)
      .where(eq(accounts.processedStripeEvents.userId, u.id));
    expect(history.map((h) => h.type).sort()).toEqual([
      "checkout.session.completed",
      "customer.subscription.created",
      "invoice.paid",
    ]);
    expect(history.filter((h) => h.outcome!.includes("plan free → pro"))).toHaveLength(1);
    expect(history.map((h) => h.outcome)).toContain(
      "active: plan free → pro; suspended 0; resumed 0",
    );
  });
});

describe("signatures", () => {
  it("refuses a missing header, a bad signature and a stale one with 400, changing nothing; the event itself is good", async () => {
    const u = await user();
    standin.control.hold({});
    const { sessionId } = await checkout(u.customer, u.id);
    const event = eventOf("checkout.session.completed", sessionId);
    const raw = JSON.stringify(event);
    expect(await post(raw, null)).toEqual({ status: 400, body: "missing Stripe-Signature header" });
    const forged = stripe.webhooks.generateTestHeaderString({
      payload: raw,
      secret: "whsec_not_the_portals_secret",
    });
    expect(await post(raw, forged)).toEqual({ status: 400, body: "invalid signature" });
    // The stand-in re-sends it signed with the right secret, 301 s ago.
    const stale = await standin.control.resend(event.id, 301);
    expect(stale.map((d: DeliveryRecord) => d.status)).toEqual([400]);
    expect(answers.at(-1)).toEqual({
      eventId: event.id,
      status: 400,
      body: "signature timestamp too old",
    });
    expect((await userRow(u.id)).plan).toBe("free");
    expect(await processed(event.id)).toEqual([]);
    expect(await outbox(u.id)).toEqual([]);
    expect(logged.some((l) => l.includes(forged) || l.includes(raw))).toBe(false);

    standin.control.release();
    await standin.idle();
    expect((await userRow(u.id)).plan).toBe("pro");
    expect(await processed(event.id)).toHaveLength(1);
  });
  it("refuses a body over 256 KiB with 413 before reading it all, and answers GET with 405", async () => {
    const before = (await db().select().from(accounts.processedStripeEvents)).length;
    const event = standin.events().at(-1)!;
    const big = JSON.stringify({ ...event, id: "evt_big", padding: "x".repeat(300 * 1024) });
    const signature = stripe.webhooks.generateTestHeaderString({
      payload: big,
      secret: standin.webhookSecret,
    });
    expect(await post(big, signature)).toEqual({ status: 413, body: "payload too large" });
    expect((await db().select().from(accounts.processedStripeEvents)).length).toBe(before);
    const get = await route.GET();
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
  });
});

describe("idempotency", () => {
  it("a sequential duplicate is answered 'duplicate' and does nothing again", async () => {
    const u = await user();
    const { subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    const created = eventOf("customer.subscription.created", subscriptionId);
    const [before] = await processed(created.id);
    const again = await standin.control.duplicate(created.id, 2);
    expect(again.map((d) => d.status)).toEqual([200, 200]);
    expect(answers.filter((a) => a.eventId === created.id).map((a) => a.body)).toEqual([
      before!.outcome,
      "duplicate",
      "duplicate",
    ]);
    expect(await processed(created.id)).toEqual([before]);
    expect(await outbox(u.id)).toEqual(["plan"]);
  });

  it("concurrent deliveries of one event have one effect", async () => {
    const u = await user();
    standin.control.hold({});
    const { subscriptionId } = await checkout(u.customer, u.id);
    const created = eventOf("customer.subscription.created", subscriptionId);
    const sent = await standin.control.duplicate(created.id, 4, true);
    expect(sent.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    const bodies = answers.filter((a) => a.eventId === created.id).map((a) => a.body);
    expect(bodies.filter((b) => b === "duplicate")).toHaveLength(3);
    expect(bodies.filter((b) => b.includes("plan free → pro"))).toHaveLength(1);
    expect(await outbox(u.id)).toEqual(["plan"]);
    expect((await userRow(u.id)).plan).toBe("pro");
  });
});

describe("order", () => {
  it("an `updated` delivered after `deleted` does not bring pro back (the API's state is applied)", async () => {
    const u = await user();
    const { subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    expect((await userRow(u.id)).plan).toBe("pro");
    const events = standin.control.outOfOrderCancel(subscriptionId);
    await standin.idle();
    const updated = events.find((e) => e.type === "customer.subscription.updated")!;
    const deleted = events.find((e) => e.type === "customer.subscription.deleted")!;
    const order = answers.map((a) => a.eventId);
    expect(order.lastIndexOf(updated.id)).toBeGreaterThan(order.lastIndexOf(deleted.id));
    // The late `updated` itself says the subscription is active (set to cancel at period end).
    expect((updated.data.object as { status: string }).status).toBe("active");
    expect(await userRow(u.id)).toMatchObject({
      plan: "free",
      stripeSubscriptionStatus: "canceled",
    });
    expect((await processed(updated.id))[0]!.outcome).toBe(
      "canceled: plan free unchanged; suspended 0; resumed 0",
    );
    expect(await outbox(u.id)).toEqual(["plan", "plan"]);
  });
  it("an old subscription's late `deleted` does not end the newer one the user bought since", async () => {
    const u = await user();
    const first = await checkout(u.customer, u.id);
    await standin.idle();
    standin.control.hold({ objectId: first.subscriptionId });
    await stripe.subscriptions.cancel(first.subscriptionId);
    const second = await checkout(u.customer, u.id);
    await standin.idle();
    expect(await userRow(u.id)).toMatchObject({
      plan: "pro",
      stripeSubscriptionId: second.subscriptionId,
    });
    standin.control.release();
    await standin.idle();
    const late = eventOf("customer.subscription.deleted", first.subscriptionId);
    expect((await processed(late.id))[0]!.outcome).toBe(
      `ignored: ${first.subscriptionId} (canceled) is not the current subscription`,
    );
    expect(await userRow(u.id)).toMatchObject({
      plan: "pro",
      stripeSubscriptionId: second.subscriptionId,
      stripeSubscriptionStatus: "active",
    });
    expect(await outbox(u.id)).toEqual(["plan"]);
  });
  it("a delivery whose re-read was overtaken by a newer one's commit reads again instead of applying stale state", async () => {
    const u = await user();
    const { subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    standin.control.hold({ objectId: subscriptionId });
    await stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    const older = eventOf("customer.subscription.updated", subscriptionId);

    // A Stripe in front of the stand-in whose first subscription read answers only when let go.
    let letGo!: () => void;
    const gate = new Promise<void>((r) => (letGo = r));
    let firstRead!: () => void;
    const firstReadDone = new Promise<void>((r) => (firstRead = r));
    let reads = 0;
    const slow = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        void (async () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(req.headers))
            if (typeof v === "string" && k !== "host" && k !== "connection") headers.set(k, v);
          const upstream = await fetch(`${standin.url}${req.url}`, {
            method: req.method,
            headers,
            ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
          });
          const body = await upstream.text();
          if (req.url!.startsWith("/v1/subscriptions/") && ++reads === 1) {
            firstRead();
            await gate;
          }
          res.writeHead(upstream.status, { "content-type": "application/json" }).end(body);
        })();
      });
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    try {
      const raw = JSON.stringify(older);
      const pending = receiveStripeWebhook(
        {
          db: db(),
          stripe: createStripeClient({
            secretKey: standin.secretKey,
            apiUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
          }),
          webhookSecret: standin.webhookSecret,
          settings: { graceDays: 7, quotaFree: 1, quotaPro: 3 },
          log: (l) => logged.push(l),
        },
        raw,
        stripe.webhooks.generateTestHeaderString({ payload: raw, secret: standin.webhookSecret }),
      );
      await firstReadDone; // it has read "active, canceling at period end"
      await stripe.subscriptions.cancel(subscriptionId);
      const deleted = eventOf("customer.subscription.deleted", subscriptionId);
      expect((await standin.control.duplicate(deleted.id)).map((d) => d.status)).toEqual([200]);
      expect((await userRow(u.id)).plan).toBe("free");
      letGo();
      expect(await pending).toEqual({
        status: 200,
        body: "canceled: plan free unchanged; suspended 0; resumed 0",
      });
      expect(reads).toBe(2);
      expect(await userRow(u.id)).toMatchObject({
        plan: "free",
        stripeSubscriptionStatus: "canceled",
      });
      expect(await outbox(u.id)).toEqual(["plan", "plan"]);
    } finally {
      letGo();
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });
});

describe("events that are not ours to act on", () => {
  it("an unknown event type is answered 200 and recorded as ignored", async () => {
    const before = answers.length;
    const customer = await stripe.customers.create({ email: "nobody@example.test" });
    await standin.idle();
    const event = eventOf("customer.created", customer.id);
    expect(answers.slice(before)).toEqual([
      { eventId: event.id, status: 200, body: "ignored: event type customer.created not handled" },
    ]);
    expect(await processed(event.id)).toMatchObject([{ userId: null, type: "customer.created" }]);
  });

  it("a subscription of a customer not ours: 200, logged without personal data, recorded with no user", async () => {
    const email = `stranger-${randomUUID().slice(0, 6)}@example.test`;
    const customer = await stripe.customers.create({ email });
    const pro = async () =>
      (
        await db()
          .select({ n: sql<number>`count(*)::int` })
          .from(accounts.users)
          .where(eq(accounts.users.plan, "pro"))
      )[0]!.n;
    const proBefore = await pro();
    const { subscriptionId } = await checkout(customer, null);
    await standin.idle();
    const created = eventOf("customer.subscription.created", subscriptionId);
    expect(answers.find((a) => a.eventId === created.id)).toEqual({
      eventId: created.id,
      status: 200,
      body: "ignored: not a customer of ours",
    });
    expect(await processed(created.id)).toMatchObject([
      { userId: null, outcome: "ignored: not a customer of ours" },
    ]);
    expect(logged).toContain(
      `stripe webhook ${created.id} customer.subscription.created: ignored: not a customer of ours`,
    );
    expect(logged.some((l) => l.includes(email))).toBe(false);
    expect(await pro()).toBe(proBefore);
  });
});

describe("plan changes", () => {
  it("a failed renewal payment: past_due, still pro, grace from the first failure", async () => {
    const u = await user();
    const { subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    const events = standin.control.failPayment(subscriptionId);
    await standin.idle();
    const row = await userRow(u.id);
    expect(row).toMatchObject({ plan: "pro", stripeSubscriptionStatus: "past_due" });
    expect(row.pastDueSince).not.toBeNull();
    const failed = events.find((e) => e.type === "invoice.payment_failed")!;
    const [rec] = await processed(failed.id);
    expect(rec!.userId).toBe(u.id);
    const graceEnd = new Date(row.pastDueSince!.getTime() + 7 * 86_400_000).toISOString();
    expect(rec!.outcome).toBe(
      `past_due: plan pro unchanged; grace until ${graceEnd}; suspended 0; resumed 0`,
    );
    expect(await outbox(u.id)).toEqual(["plan"]);
  });

  it("canceling drops to free and suspends the newest projected bouncers beyond the free quota", async () => {
    const u = await user();
    const { subscriptionId } = await checkout(u.customer, u.id);
    await standin.idle();
    for (const [name, day] of [
      ["b-old", 1],
      ["b-mid", 2],
      ["b-new", 3],
    ] as const)
      await db()
        .insert(accounts.bouncers)
        .values({
          namespace: "irc-now",
          name: `${name}-${u.id.slice(0, 6)}`,
          uid: randomUUID(),
          ownerId: u.id,
          sojuUsername: name,
          resource: {
            metadata: { name, creationTimestamp: new Date(Date.UTC(2026, 0, day)).toISOString() },
          },
        });
    await stripe.subscriptions.cancel(subscriptionId);
    await standin.idle();
    expect(await userRow(u.id)).toMatchObject({
      plan: "free",
      stripeSubscriptionStatus: "canceled",
    });
    const suspended = await db()
      .select({ name: accounts.bouncers.name, reason: accounts.bouncers.suspendedReason })
      .from(accounts.bouncers)
      .where(
        and(eq(accounts.bouncers.ownerId, u.id), sql`${accounts.bouncers.suspendedAt} IS NOT NULL`),
      )
      .orderBy(accounts.bouncers.name);
    const tag = u.id.slice(0, 6);
    expect(suspended).toEqual([
      { name: `b-mid-${tag}`, reason: "over_quota" },
      { name: `b-new-${tag}`, reason: "over_quota" },
    ]);
    const deleted = eventOf("customer.subscription.deleted", subscriptionId);
    expect((await processed(deleted.id))[0]!.outcome).toBe(
      "canceled: plan pro → free; suspended 2; resumed 0",
    );
    expect(await outbox(u.id)).toEqual(["plan", "plan"]);
  });
});

describe("Stripe unreachable", () => {
  it("answers 503 and records nothing, so Stripe delivers again", async () => {
    const u = await user();
    standin.control.hold({});
    const { subscriptionId } = await checkout(u.customer, u.id);
    const event = eventOf("customer.subscription.created", subscriptionId);
    const raw = JSON.stringify(event);
    const away = createStripeClient({
      secretKey: standin.secretKey,
      apiUrl: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 500,
    });
    const answer = await receiveStripeWebhook(
      {
        db: db(),
        stripe: away,
        webhookSecret: standin.webhookSecret,
        settings: { graceDays: 7, quotaFree: 1, quotaPro: 3 },
        log: (l) => logged.push(l),
      },
      raw,
      stripe.webhooks.generateTestHeaderString({ payload: raw, secret: standin.webhookSecret }),
    );
    expect(answer).toEqual({ status: 503, body: "Stripe API unavailable, deliver again" });
    expect(await processed(event.id)).toEqual([]);
    expect((await userRow(u.id)).plan).toBe("free");
  });
});
