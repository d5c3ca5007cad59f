import { encode } from "next-auth/jwt";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createStripeClient } from "@irc-now/billing";
import { accounts } from "@irc-now/db";
import { startStripeStandin, type StripeStandin } from "@irc-now/standins/stripe";
import { recordLogin } from "~/server/domain/users";
import { useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// POST /api/billing/checkout and /api/billing/portal: 303 to the Stripe stand-in's hosted pages,
// built on the server; the customer is created once; other sites and signed-out browsers refused.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SECRET = "test-secret-test-secret-test-secret-0123";
const SITE = "http://127.0.0.1:3000";

let world: World;
let stripe: StripeStandin;
let checkout: (request: Request) => Promise<Response>;
let portal: (request: Request) => Promise<Response>;

const post = (path: string, headers: Record<string, string> = { origin: SITE }) =>
  new Request(`${SITE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: "",
  });

async function signIn(userId: string, username: string) {
  jar.set(
    "next-auth.session-token",
    await encode({
      token: {
        sub: `kc-${username}`,
        userId,
        username,
        isAdmin: false,
        rolesCheckedAt: Math.floor(Date.now() / 1000),
        accessExpiresAt: Math.floor(Date.now() / 1000) + 300,
        signedInAt: Date.now(),
      },
      secret: SECRET,
    }),
  );
}

let seq = 0;
async function newUser() {
  const username = `payer${++seq}`;
  const user = await recordLogin(world.db, {
    subject: `kc-${username}`,
    username,
    email: `${username}@example.org`,
  });
  await world.db
    .update(accounts.users)
    .set({ sessionsValidAfter: new Date(0) })
    .where(eq(accounts.users.id, user.id));
  await signIn(user.id, username);
  return user;
}

const customerOf = async (userId: string) =>
  (
    await world.db
      .select({ c: accounts.users.stripeCustomerId })
      .from(accounts.users)
      .where(eq(accounts.users.id, userId))
  )[0]!.c;

const api = () => createStripeClient({ secretKey: stripe.secretKey, apiUrl: stripe.url });

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  stripe = await startStripeStandin();
  useWebEnv(world, {
    STRIPE_API_URL: stripe.url,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    STRIPE_PRICE_PRO: stripe.proPriceId,
  });
  ({ POST: checkout } = await import("../app/api/billing/checkout/route"));
  ({ POST: portal } = await import("../app/api/billing/portal/route"));
});
afterEach(() => jar.clear());
afterAll(async () => {
  await stripe?.stop();
  await world?.stop();
});

describe("POST /api/billing/checkout", () => {
  it("answers 303 to the hosted Checkout of a pro subscription for this user", async () => {
    const user = await newUser();
    const res = await checkout(post("/api/billing/checkout"));
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location.startsWith(`${stripe.url}/c/pay/cs_`)).toBe(true);
    const customer = await customerOf(user.id);
    expect(customer).toMatch(/^cus_/);
    const sessionId = decodeURIComponent(location.slice(`${stripe.url}/c/pay/`.length));
    const session = await api().checkout.sessions.retrieve(sessionId, {
      expand: ["line_items"],
    });
    expect(session).toMatchObject({
      mode: "subscription",
      customer,
      client_reference_id: user.id,
      success_url: `${SITE}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${SITE}/billing?checkout=canceled`,
    });
    expect(session.line_items?.data.map((l) => l.price?.id)).toEqual([stripe.proPriceId]);
    // Paying on the hosted page makes a subscription that names the user (subscription_data).
    const paid = await fetch(location, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "cardNumber=4242424242424242",
      redirect: "manual",
    });
    expect(paid.status).toBe(303);
    const done = await api().checkout.sessions.retrieve(sessionId);
    const sub = await api().subscriptions.retrieve(done.subscription as string);
    expect(sub.metadata.user_id).toBe(user.id);
    expect(sub.customer).toBe(customer);
    // No webhook reached this DB (the user is still free here), yet a second click must not
    // start a second subscription: Stripe knows about the first.
    const again = await checkout(post("/api/billing/checkout"));
    expect(again.headers.get("location")).toBe(`${SITE}/billing?error=already_pro`);
  });

  it("creates the customer once when the button is clicked many times at once", async () => {
    const user = await newUser();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => checkout(post("/api/billing/checkout"))),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(303));
    const customer = await customerOf(user.id);
    const created = stripe
      .events()
      .filter((e) => e.type === "customer.created")
      .map((e) => e.data.object as { id: string; metadata: Record<string, string> })
      .filter((c) => c.metadata.user_id === user.id);
    expect(created.map((c) => c.id)).toEqual([customer]);
    // A later click reuses it.
    await checkout(post("/api/billing/checkout"));
    expect(await customerOf(user.id)).toBe(customer);
  });

  it("refuses another site's form with 403 and changes nothing", async () => {
    const user = await newUser();
    const before = stripe.events().length;
    const crossSite: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { "sec-fetch-site": "cross-site" },
      { origin: "null" },
    ];
    for (const headers of crossSite) {
      const res = await checkout(post("/api/billing/checkout", headers));
      expect(res.status).toBe(403);
      expect(res.headers.get("location")).toBeNull();
    }
    expect(await customerOf(user.id)).toBeNull();
    expect(stripe.events().length).toBe(before);
  });

  it("sends a signed-out browser to sign in, back to /billing", async () => {
    const res = await checkout(post("/api/billing/checkout"));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${SITE}/signin?callbackUrl=%2Fbilling`);
  });

  it("sends a pro user back to /billing instead of a second subscription", async () => {
    const user = await newUser();
    await world.db
      .update(accounts.users)
      .set({ plan: "pro", stripeSubscriptionStatus: "active" })
      .where(eq(accounts.users.id, user.id));
    const res = await checkout(post("/api/billing/checkout"));
    expect(res.headers.get("location")).toBe(`${SITE}/billing?error=already_pro`);
    expect(await customerOf(user.id)).toBeNull();
  });
});

describe("POST /api/billing/portal", () => {
  it("answers 303 to the hosted Billing Portal of the user's customer, back to /billing", async () => {
    const user = await newUser();
    await checkout(post("/api/billing/checkout"));
    const customer = await customerOf(user.id);
    const res = await portal(post("/api/billing/portal"));
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    expect(location.startsWith(`${stripe.url}/p/session/`)).toBe(true);
    const page = await (await fetch(location)).text();
    expect(page).toContain(`${SITE}/billing`);
    expect(customer).toMatch(/^cus_/);
  });

  it("sends a user without a customer back to /billing with a reason", async () => {
    await newUser();
    const res = await portal(post("/api/billing/portal"));
    expect(res.headers.get("location")).toBe(`${SITE}/billing?error=no_customer`);
  });

  it("refuses another site's form with 403", async () => {
    await newUser();
    const res = await portal(post("/api/billing/portal", { origin: "https://evil.example" }));
    expect(res.status).toBe(403);
  });

  it("says 'try again' when Stripe refuses, with Stripe's words only in the server log", async () => {
    const user = await newUser();
    await world.db
      .update(accounts.users)
      .set({ stripeCustomerId: "cus_gone_from_stripe" })
      .where(eq(accounts.users.id, user.id));
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const res = await portal(post("/api/billing/portal"));
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`${SITE}/billing?error=unavailable`);
      expect(errors.mock.calls.flat().join("\n")).toMatch(
        /billing portal for user .* failed: .*cus_gone_from_stripe/,
      );
    } finally {
      errors.mockRestore();
    }
  });

  it("limits each user to 10 billing redirects per 10 minutes, then says when to try again", async () => {
    const user = await newUser();
    for (let i = 0; i < 10; i++)
      expect((await portal(post("/api/billing/portal"))).headers.get("location")).toBe(
        `${SITE}/billing?error=no_customer`,
      );
    const limited = await checkout(post("/api/billing/checkout"));
    expect(limited.status).toBe(303);
    expect(limited.headers.get("location")).toMatch(
      new RegExp(`^${SITE}/billing\\?error=rate_limited&retry=\\d+$`),
    );
    expect(await customerOf(user.id)).toBeNull();
  });
});
