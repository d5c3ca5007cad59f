import { mkdir } from "node:fs/promises";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accounts, createAccountsDb } from "@irc-now/db";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { startProduct, type Product } from "../src/product";
import { screenshotter, signInFromLanding } from "../src/sign-in";

// Issue 14 acceptance, in Chromium on the production build with the real worker and the Stripe
// stand-in as `npm run dev` runs it (hosted Checkout and Billing Portal, signed webhooks to the
// web): a declined card leaves alice on free; 4242… makes her pro and she creates a second and
// third bouncer; "Cancel immediately" in the portal suspends the two newest (soju user disabled,
// said on the dashboard); upgrading again resumes them and they authenticate again.

const SHOTS = "/tmp/irc-now-billing-shots";
const shot = screenshotter(SHOTS);

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let page: Page;

const BOUNCERS = ["alice", "alice-two", "alice-three"] as const;

/** What the Stripe stand-in delivered, and the worker said: shown when a wait times out. */
async function diagnostics(): Promise<string> {
  const deliveries = await fetch(`${product.stack.env.STRIPE_API_URL}/_standin/deliveries`)
    .then((r) => r.text())
    .catch((e: unknown) => String(e));
  return `deliveries: ${deliveries.slice(-3000)}\nworker: ${product.workerOutput().slice(-3000)}`;
}

/** `sojuctl user status` of the bouncer's soju: "alice (disabled): …" while suspended. */
async function sojuUserDisabled(bouncer: string): Promise<boolean> {
  const soju = product.operator?.get(bouncer)?.soju;
  if (!soju) throw new Error(`the operator runs no soju for ${bouncer}`);
  const { stdout, stderr, exitCode } = await soju.runSojuctl([
    "-config",
    soju.configPath,
    "user",
    "status",
    "alice",
  ]);
  if (exitCode !== 0) throw new Error(`sojuctl user status failed: ${stderr}${stdout}`);
  return /^alice \([^)]*disabled/m.test(stdout);
}

async function gotoBilling() {
  await page.goto(`${product.web.url}/billing`);
  await page.getByRole("heading", { level: 1, name: "Billing" }).waitFor();
}

const plan = () => page.getByTestId("billing-plan").textContent();
const status = () => page.getByTestId("billing-status").textContent();

/** Upgrade to pro → the stand-in's hosted Checkout, with `card` typed into its field. */
async function checkoutWith(card: string) {
  await gotoBilling();
  await Promise.all([
    page.waitForURL(/\/c\/pay\//),
    page.getByRole("button", { name: "Upgrade to pro" }).click(),
  ]);
  await page.getByLabel("Card number").fill(card);
  await page.getByRole("button", { name: "Subscribe" }).click();
}

/** Back on /billing after paying: the page refreshes itself until the webhook made her pro. */
async function expectProAfterCheckout() {
  await page.waitForURL(/\/billing\?checkout=success&session_id=cs_/);
  await expect
    .poll(plan, { timeout: 30_000, message: "plan never became pro" })
    .toBe("Pro")
    .catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${await diagnostics()}`);
    });
  expect(await page.getByTestId("billing-notice").textContent()).toMatch(
    /you are on the pro plan now/,
  );
  expect(await status()).toMatch(/^Active\. Renews on \d{1,2} \w+ \d{4}\.$/);
}

async function dashboardCard(name: string) {
  await page.goto(`${product.web.url}/dashboard`);
  return page.getByTestId(`bouncer-${name}`);
}

async function waitForStatus(name: string, pattern: RegExp, timeout = 90_000) {
  const card = await dashboardCard(name);
  await expect
    .poll(() => card.getByTestId("bouncer-status").textContent(), { timeout })
    .toMatch(pattern)
    .catch(async (e: unknown) => {
      throw new Error(`${name}: ${String(e)}\n${await diagnostics()}`);
    });
  return card;
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  product = await startProduct({
    sojuAuthHttp: true,
    extraUsers: [{ username: "bob", password: "bob-password", email: "bob@example.org" }],
  });
  ({ browser, close: closeBrowser } = await launchChromium());
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

afterAll(async () => {
  await closeBrowser?.();
  await product?.stop();
});

describe("[USER] billing: upgrade, cancel, suspension, upgrade again", () => {
  it("alice (free) has one bouncer that authenticates on irc.now", async () => {
    await signInFromLanding(page, product.web.url, "alice", "alice-password");
    await page.getByLabel("Name", { exact: true }).fill("alice");
    await page.getByRole("button", { name: "Create bouncer" }).click();
    await waitForStatus("alice", /^Authenticated/);
  });

  it("/billing shows the free plan, accessible, reached from the main navigation", async () => {
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Billing" })
      .click();
    await page.waitForURL(`${product.web.url}/billing`);
    expect(await plan()).toBe("Free");
    expect(await status()).toBe("No subscription: you are on the free plan.");
    expect(await page.getByTestId("billing-bouncers").textContent()).toBe(
      "You have 1; your plan includes 1.",
    );
    expect(await page.getByRole("button", { name: "Manage billing" }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "1-free");
  });

  it("a declined card (4000 0000 0000 0002) leaves her on free, with a clear message", async () => {
    await checkoutWith("4000 0000 0000 0002");
    expect((await page.getByRole("alert").textContent())?.trim()).toBe("Your card was declined.");
    await Promise.all([
      page.waitForURL(`${product.web.url}/billing?checkout=canceled`),
      page.getByRole("link", { name: /^Cancel and return to/ }).click(),
    ]);
    expect(await page.getByTestId("billing-notice").textContent()).toBe(
      "Checkout was canceled. You were not charged and your plan has not changed.",
    );
    expect(await plan()).toBe("Free");
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "2-checkout-canceled");
  });

  it("she upgrades with 4242 4242 4242 4242 and /billing shows pro", async () => {
    await checkoutWith("4242 4242 4242 4242");
    await expectProAfterCheckout();
    expect(await page.getByRole("button", { name: "Upgrade to pro" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Manage billing" }).count()).toBe(1);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "3-pro-active");
  });

  it("as pro she creates a second and a third bouncer; all authenticate", async () => {
    for (const name of ["alice-two", "alice-three"]) {
      await page.goto(`${product.web.url}/dashboard`);
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.getByRole("button", { name: "Create bouncer" }).click();
      await page.getByTestId(`bouncer-${name}`).waitFor();
    }
    for (const name of BOUNCERS) await waitForStatus(name, /^Authenticated/, 120_000);
    for (const name of BOUNCERS) expect(await sojuUserDisabled(name)).toBe(false);
  });

  it("Cancel immediately in the Billing Portal: free again, the two newest suspended", async () => {
    await gotoBilling();
    await Promise.all([
      page.waitForURL(/\/p\/session\//),
      page.getByRole("button", { name: "Manage billing" }).click(),
    ]);
    await Promise.all([
      page.waitForURL(/done=cancel_now/),
      page.getByRole("button", { name: "Cancel immediately" }).click(),
    ]);
    await Promise.all([
      page.waitForURL(`${product.web.url}/billing`),
      page.getByRole("link", { name: /^Return to/ }).click(),
    ]);
    await expect
      .poll(
        async () => {
          await page.reload();
          return plan();
        },
        { timeout: 30_000 },
      )
      .toBe("Free")
      .catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await diagnostics()}`);
      });
    expect(await status()).toBe("Canceled. You are on the free plan.");
    expect(await page.getByTestId("billing-bouncers").textContent()).toMatch(
      /^You have 3; your plan includes 1\. 2 are suspended over that limit \(see the dashboard\)\.$/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "4-canceled-suspended");

    // The dashboard says which, why and how to resume them; the oldest stays as it was.
    for (const name of ["alice-two", "alice-three"]) {
      const card = await waitForStatus(name, /^Suspended$/, 30_000);
      expect(await card.getByTestId("bouncer-suspended").textContent()).toMatch(
        /^Your free plan includes 1 bouncer; this one is suspended since .+\.IRC logins to it are refused until it resumes: upgrade to pro or delete another bouncer to resume it\./,
      );
      expect(
        await card
          .getByRole("link", { name: "Upgrade to pro on the billing page" })
          .getAttribute("href"),
      ).toBe("/billing");
    }
    const first = await waitForStatus("alice", /^Authenticated/);
    expect(await first.getByTestId("bouncer-suspended").count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "5-dashboard-suspended");

    // The worker disabled the soju user of each suspended bouncer (and only those).
    await expect
      .poll(async () => Promise.all(BOUNCERS.map(sojuUserDisabled)), { timeout: 60_000 })
      .toEqual([false, true, true])
      .catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await diagnostics()}`);
      });

    // Once the verifier has seen their upstream drop, the cards still say "suspended" only, not
    // also "not connected … it reconnects by itself": they are disconnected on purpose.
    const stateDb = createAccountsDb(product.stack.env.DATABASE_URL!);
    try {
      await expect
        .poll(
          async () =>
            (
              await stateDb
                .select({ bouncer: accounts.bouncerUpstreamStates.bouncer })
                .from(accounts.bouncerUpstreamStates)
                .where(eq(accounts.bouncerUpstreamStates.state, "disconnected"))
            )
              .map((r) => r.bouncer)
              .filter((b) => b === "alice-two" || b === "alice-three")
              .sort(),
          { timeout: 60_000 },
        )
        .toEqual(["alice-three", "alice-two"]);
    } finally {
      await stateDb.$client.end();
    }
    await page.reload();
    for (const name of ["alice-two", "alice-three"]) {
      const card = await waitForStatus(name, /^Suspended$/, 30_000);
      expect(await card.getByTestId("bouncer-problem").count()).toBe(0);
    }
  });

  it("she upgrades again: pro, the suspended bouncers resume and authenticate", async () => {
    await checkoutWith("4242 4242 4242 4242");
    await expectProAfterCheckout();
    await expect
      .poll(async () => Promise.all(BOUNCERS.map(sojuUserDisabled)), { timeout: 60_000 })
      .toEqual([false, false, false])
      .catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await diagnostics()}`);
      });
    for (const name of BOUNCERS) {
      const card = await waitForStatus(name, /^Authenticated/, 120_000);
      expect(await card.getByTestId("bouncer-suspended").count()).toBe(0);
    }
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, "6-dashboard-resumed");
  });
});

describe("[USER] /billing in each subscription state", () => {
  const DAY = 86_400_000;
  let bobPage: Page;
  let db: ReturnType<typeof createAccountsDb>;

  beforeAll(async () => {
    db = createAccountsDb(product.stack.env.DATABASE_URL!);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    bobPage = await context.newPage();
    await signInFromLanding(bobPage, product.web.url, "bob", "bob-password");
  });
  afterAll(async () => {
    await db?.$client.end();
  });

  /** Bob's subscription columns as the webhook leaves them (the page only reads them). */
  const setBob = (values: Partial<typeof accounts.users.$inferInsert>) =>
    db.update(accounts.users).set(values).where(eq(accounts.users.username, "bob"));

  const states: Array<{
    name: string;
    values: Partial<typeof accounts.users.$inferInsert>;
    query?: string;
    plan: "Free" | "Pro";
    status: RegExp;
    notice?: RegExp;
    buttons: string[];
    absent?: string[];
  }> = [
    {
      name: "trialing",
      values: {
        plan: "pro",
        stripeCustomerId: "cus_bob_states",
        stripeSubscriptionStatus: "trialing",
        subscriptionPeriodEnd: new Date(Date.now() + 14 * DAY),
      },
      plan: "Pro",
      status: /^Trial\. The first payment is due on \d{1,2} \w+ \d{4}\.$/,
      buttons: ["Manage billing"],
    },
    {
      name: "past-due",
      values: {
        stripeSubscriptionStatus: "past_due",
        pastDueSince: new Date(Date.now() - 2 * DAY),
      },
      plan: "Pro",
      status:
        /^Payment failed\. You keep pro until \d{1,2} \w+ \d{4} at \d\d:\d\d UTC; after that you move to the free plan unless a payment goes through\. Use Manage billing to update your card\.$/,
      buttons: ["Manage billing"],
    },
    {
      name: "canceling",
      values: {
        stripeSubscriptionStatus: "active",
        pastDueSince: null,
        subscriptionCancelAtPeriodEnd: true,
      },
      plan: "Pro",
      status:
        /^Canceled at the end of the period: you keep pro until \d{1,2} \w+ \d{4}, then it does not renew\.$/,
      buttons: ["Manage billing"],
    },
    {
      name: "unpaid",
      values: {
        plan: "free",
        stripeSubscriptionStatus: "unpaid",
        subscriptionCancelAtPeriodEnd: false,
      },
      plan: "Free",
      status: /^Unpaid: the payments failed, so you are on the free plan\. Use Manage billing/,
      buttons: ["Upgrade to pro", "Manage billing"],
    },
    {
      name: "activating",
      values: { stripeSubscriptionStatus: "canceled" },
      query: "?checkout=success&session_id=cs_test_pending",
      plan: "Free",
      status: /^Canceled\. You are on the free plan\.$/,
      notice: /^Payment received, activating pro…$/,
      buttons: ["Manage billing"],
      absent: ["Upgrade to pro"],
    },
    {
      name: "error-unavailable",
      values: {},
      query: "?error=unavailable",
      plan: "Free",
      status: /^Canceled\./,
      notice: /^We could not reach our payment provider right now\. Nothing was charged\./,
      buttons: ["Upgrade to pro", "Manage billing"],
    },
  ];

  for (const state of states)
    it(`${state.name}: says so in words, axe-clean`, async () => {
      if (Object.keys(state.values).length > 0) await setBob(state.values);
      await bobPage.goto(`${product.web.url}/billing${state.query ?? ""}`);
      expect(await bobPage.getByTestId("billing-plan").textContent()).toBe(state.plan);
      expect(await bobPage.getByTestId("billing-status").textContent()).toMatch(state.status);
      if (state.notice)
        expect(await bobPage.getByTestId("billing-notice").textContent()).toMatch(state.notice);
      expect(
        await bobPage.getByRole("button").evaluateAll((els) => els.map((e) => e.textContent)),
      ).toEqual(expect.arrayContaining(state.buttons));
      for (const name of state.absent ?? [])
        expect(await bobPage.getByRole("button", { name }).count()).toBe(0);
      expect(await axeViolations(bobPage)).toEqual([]);
      await shot(bobPage, `state-${state.name}`);
    });
});
