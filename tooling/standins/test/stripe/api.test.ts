import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientFor, startFixture, type Fixture } from "./helpers";

// The REST surface as stripe-node sees it: authentication, the pinned Stripe-Version,
// idempotency keys, customers and prices, lists, expand, and Stripe's error shapes.
let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(() => f.stop());

const raw = (path: string, init: RequestInit = {}) => fetch(`${f.standin.url}${path}`, init);

describe("authentication", () => {
  it("refuses a missing key and a wrong key with 401 and Stripe's error body; never echoes the key", async () => {
    const none = await raw("/v1/customers");
    expect(none.status).toBe(401);
    const noneBody = (await none.json()) as { error: { type: string; message: string } };
    expect(noneBody.error.type).toBe("invalid_request_error");
    expect(noneBody.error.message).toMatch(/^You did not provide an API key\./);

    const wrongKey = "sk_test_wrongwrongwrongwrong1234";
    await expect(clientFor(f.standin, wrongKey).customers.list()).rejects.toMatchObject({
      type: "StripeAuthenticationError",
      statusCode: 401,
      message: "Invalid API Key provided: sk_test_********************1234",
    });
    await expect(
      clientFor(f.standin, "pk_test_publishable").customers.list(),
    ).rejects.toMatchObject({
      type: "StripeAuthenticationError",
      message: expect.stringMatching(/publishable API key/),
    });
  });

  it("accepts the secret key as Bearer and as Basic (key as username)", async () => {
    const basic = await raw("/v1/customers", {
      headers: {
        authorization: `Basic ${Buffer.from(`${f.standin.secretKey}:`).toString("base64")}`,
      },
    });
    expect(basic.status).toBe(200);
    expect(await basic.json()).toMatchObject({ object: "list", url: "/v1/customers" });
    expect(basic.headers.get("request-id")).toMatch(/^req_/);
    expect(basic.headers.get("stripe-version")).toBe(f.standin.apiVersion);
  });
});

describe("Stripe-Version", () => {
  const auth = () => ({ authorization: `Bearer ${f.standin.secretKey}` });
  it("takes the pinned version (stripe-node sends it) or none, and refuses any other", async () => {
    expect((await raw("/v1/customers", { headers: auth() })).status).toBe(200);
    const older = await raw("/v1/customers", {
      headers: { ...auth(), "stripe-version": "2024-06-20" },
    });
    expect(older.status).toBe(400);
    expect(((await older.json()) as { error: { message: string } }).error.message).toContain(
      f.standin.apiVersion,
    );
    const bogus = await raw("/v1/customers", {
      headers: { ...auth(), "stripe-version": "latest" },
    });
    expect(await bogus.json()).toEqual({
      error: { type: "invalid_request_error", message: "Invalid Stripe API version: latest" },
    });
    const other = new Stripe(f.standin.secretKey, {
      host: f.standin.host,
      port: f.standin.port,
      protocol: "http",
      // @ts-expect-error another API version than the one stripe-node's types describe
      apiVersion: "2025-03-31.basil",
      maxNetworkRetries: 0,
    });
    await expect(other.customers.list()).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
    });
  });
});

describe("customers", () => {
  it("creates, retrieves, updates (metadata merge and unset) and lists by email, newest first", async () => {
    const a = await f.stripe.customers.create({
      email: "list@example.test",
      name: "List One",
      metadata: { user_id: "u1", keep: "yes" },
    });
    expect(a).toMatchObject({
      object: "customer",
      email: "list@example.test",
      name: "List One",
      livemode: false,
      metadata: { user_id: "u1", keep: "yes" },
    });
    expect(a.id).toMatch(/^cus_[0-9A-Za-z]{14}$/);
    const b = await f.stripe.customers.create({ email: "list@example.test" });
    await f.stripe.customers.create({ email: "other@example.test" });
    expect(await f.stripe.customers.retrieve(a.id)).toMatchObject({ id: a.id, email: a.email });

    const updated = await f.stripe.customers.update(a.id, {
      name: "Renamed",
      metadata: { keep: "", added: "1" },
    });
    expect(updated).toMatchObject({ name: "Renamed", metadata: { user_id: "u1", added: "1" } });
    expect(updated.metadata).not.toHaveProperty("keep");

    const listed = await f.stripe.customers.list({ email: "list@example.test" });
    expect(listed.data.map((c) => c.id)).toEqual([b.id, a.id]);
    expect(listed.has_more).toBe(false);
    const first = await f.stripe.customers.list({ email: "list@example.test", limit: 1 });
    expect(first.data.map((c) => c.id)).toEqual([b.id]);
    expect(first.has_more).toBe(true);
    const next = await f.stripe.customers.list({
      email: "list@example.test",
      limit: 1,
      starting_after: b.id,
    });
    expect(next.data.map((c) => c.id)).toEqual([a.id]);
    // stripe-node's auto-pagination walks the cursors.
    const all: string[] = [];
    for await (const c of f.stripe.customers.list({ email: "list@example.test", limit: 1 }))
      all.push(c.id);
    expect(all).toEqual([b.id, a.id]);
  });

  it("answers unknown ids, unknown parameters and unknown URLs as Stripe does", async () => {
    await expect(f.stripe.customers.retrieve("cus_missing")).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 404,
      code: "resource_missing",
      param: "id",
      message: "No such customer: 'cus_missing'",
    });
    await expect(
      // @ts-expect-error a parameter Stripe does not have
      f.stripe.customers.create({ email: "x@example.test", plan: "pro" }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: "parameter_unknown",
      param: "plan",
      message: "Received unknown parameter: plan",
    });
    const res = await raw("/v1/nothing", {
      headers: { authorization: `Bearer ${f.standin.secretKey}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^Unrecognized request URL \(GET: \/v1\/nothing\)/,
    );
  });
});

describe("idempotency keys", () => {
  it("answers a repeated key with the same parameters with the saved response, marked as replayed", async () => {
    const first = await f.stripe.customers.create(
      { email: "idem@example.test" },
      { idempotencyKey: "key-same" },
    );
    const second = await f.stripe.customers.create(
      { email: "idem@example.test" },
      { idempotencyKey: "key-same" },
    );
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(first.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
    expect((await f.stripe.customers.list({ email: "idem@example.test" })).data).toHaveLength(1);
  });

  it("refuses the same key with other parameters or another endpoint with an idempotency_error", async () => {
    await f.stripe.customers.create({ email: "k1@example.test" }, { idempotencyKey: "key-diff" });
    await expect(
      f.stripe.customers.create({ email: "k2@example.test" }, { idempotencyKey: "key-diff" }),
    ).rejects.toMatchObject({
      type: "StripeIdempotencyError",
      statusCode: 400,
      message:
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'key-diff' if you meant to execute a different request.",
    });
    await expect(
      f.stripe.checkout.sessions.create(
        {
          mode: "subscription",
          line_items: [{ price: f.standin.proPriceId, quantity: 1 }],
          success_url: "http://localhost:3000/billing",
        },
        { idempotencyKey: "key-diff" },
      ),
    ).rejects.toMatchObject({ type: "StripeIdempotencyError" });
    expect((await f.stripe.customers.list({ email: "k2@example.test" })).data).toHaveLength(0);
  });

  it("gives every POST its own key by default, so two creates make two customers", async () => {
    const a = await f.stripe.customers.create({ email: "twice@example.test" });
    const b = await f.stripe.customers.create({ email: "twice@example.test" });
    expect(a.id).not.toBe(b.id);
    expect(a.lastResponse.idempotencyKey).toBeTruthy();
  });

  it("records the request and its key on the events it causes", async () => {
    const c = await f.stripe.customers.create(
      { email: "evt@example.test" },
      { idempotencyKey: "key-event" },
    );
    const event = f.standin.events().find((e) => (e.data.object as { id?: string }).id === c.id);
    expect(event).toMatchObject({
      type: "customer.created",
      request: { id: c.lastResponse.requestId, idempotency_key: "key-event" },
    });
    const fetched = await f.stripe.events.retrieve(event!.id);
    expect(fetched.id).toBe(event!.id);
  });
});

describe("prices", () => {
  it("has the one seeded recurring pro price", async () => {
    const price = await f.stripe.prices.retrieve(f.standin.proPriceId, { expand: ["product"] });
    expect(price).toMatchObject({
      id: f.standin.proPriceId,
      type: "recurring",
      unit_amount: 500,
      currency: "usd",
      recurring: { interval: "month", interval_count: 1 },
      product: { object: "product", name: "irc.now pro" },
    });
    expect((await f.stripe.prices.list()).data.map((p) => p.id)).toEqual([f.standin.proPriceId]);
  });
});

describe("form bodies", () => {
  it("parses nested brackets with qs semantics", async () => {
    const body =
      "mode=subscription&line_items[0][price]=" +
      f.standin.proPriceId +
      "&line_items[0][quantity]=2&subscription_data[metadata][user_id]=u%5B1%5D&success_url=http%3A%2F%2Flocalhost%3A3000%2Fb";
    const res = await raw("/v1/checkout/sessions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${f.standin.secretKey}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body,
    });
    expect(res.status).toBe(200);
    const s = (await res.json()) as { id: string; amount_total: number };
    expect(s.amount_total).toBe(1000);
    const items = await f.stripe.checkout.sessions.listLineItems(s.id);
    expect(items.data[0]).toMatchObject({ quantity: 2, price: { id: f.standin.proPriceId } });
  });
});
