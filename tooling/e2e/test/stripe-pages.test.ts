import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStripeStandin, type StripeStandin } from "@irc-now/standins/stripe";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { describedBy, focused } from "../src/page-checks";

// The Stripe stand-in's hosted Checkout, Billing Portal and control pages in Chromium, by
// keyboard, with axe-core (WCAG 2.2 AA) on each state. No web app: a tiny page plays the
// portal's /billing that Stripe sends the browser back to.
describe("[STRIPE] hosted pages", () => {
  let stripe: StripeStandin;
  let billing: Server;
  let billingUrl: string;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  const api = async (path: string, params: Record<string, string>) => {
    const res = await fetch(`${stripe.url}/v1/${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stripe.secretKey}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(params),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { id: string; url: string; subscription?: string };
  };

  beforeAll(async () => {
    billing = createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        `<!DOCTYPE html><html lang="en"><title>Billing</title><h1>Billing</h1><p>${req.url}</p>`,
      );
    });
    await new Promise<void>((r) => billing.listen(0, "127.0.0.1", r));
    billingUrl = `http://127.0.0.1:${(billing.address() as AddressInfo).port}/billing`;
    stripe = await startStripeStandin();
    ({ browser, close: closeBrowser } = await launchChromium());
  });
  afterAll(async () => {
    await closeBrowser?.();
    await stripe?.stop();
    billing?.closeAllConnections();
    await new Promise<void>((r) => (billing ? billing.close(() => r()) : r()));
  });

  it("checkout: a declined card is announced on an accessible page; 4242 pays and returns to success_url", async () => {
    const customer = await api("customers", { email: "alice@example.test" });
    const session = await api("checkout/sessions", {
      mode: "subscription",
      customer: customer.id,
      "line_items[0][price]": stripe.proPriceId,
      "line_items[0][quantity]": "1",
      success_url: `${billingUrl}?session={CHECKOUT_SESSION_ID}`,
      cancel_url: `${billingUrl}?checkout=canceled`,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(session.url);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "Subscribe to irc.now pro",
    );
    expect(await axeViolations(page)).toEqual([]);

    const card = page.getByLabel("Card number");
    await card.focus();
    await page.keyboard.type("4000 0000 0000 0002");
    await page.keyboard.press("Enter");
    await page.waitForLoadState();
    expect((await page.getByRole("alert").textContent())?.trim()).toBe("Your card was declined.");
    expect(await describedBy(page.getByLabel("Card number"))).toEqual([
      "Your card was declined.",
      "Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.",
    ]);
    expect(await page.getByLabel("Card number").getAttribute("aria-invalid")).toBe("true");
    expect(await axeViolations(page)).toEqual([]);
    expect(
      await page.getByRole("link", { name: "Cancel and return to irc.now" }).getAttribute("href"),
    ).toBe(`${billingUrl}?checkout=canceled`);

    // Keyboard only: Tab from the card field reaches the Subscribe button.
    await page.getByLabel("Card number").fill("");
    await page.getByLabel("Card number").focus();
    await page.keyboard.type("4242 4242 4242 4242");
    await page.keyboard.press("Tab");
    expect(await focused(page)).toMatchObject({ tag: "button", text: "Subscribe" });
    await Promise.all([page.waitForURL(/\/billing\?session=/), page.keyboard.press("Enter")]);
    expect(page.url()).toBe(`${billingUrl}?session=${session.id}`);
    const sub = stripe.events().find((e) => e.type === "customer.subscription.created");
    expect((sub?.data.object as { status?: string }).status).toBe("active");
    await page.close();
  });

  it("portal: cancel at period end, resume and cancel now by keyboard, every state accessible", async () => {
    const customer = await api("customers", { email: "bob@example.test" });
    const session = await api("checkout/sessions", {
      mode: "subscription",
      customer: customer.id,
      "line_items[0][price]": stripe.proPriceId,
      success_url: billingUrl,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(session.url);
    await page.getByLabel("Card number").fill("4242424242424242");
    await Promise.all([
      page.waitForURL(billingUrl),
      page.getByRole("button", { name: "Subscribe" }).click(),
    ]);

    const portal = await api("billing_portal/sessions", {
      customer: customer.id,
      return_url: billingUrl,
    });
    await page.goto(portal.url);
    expect(await axeViolations(page)).toEqual([]);
    for (const [button, done, message] of [
      [
        "Cancel at end of period",
        "cancel_at_period_end",
        "Your subscription will be canceled at the end of the billing period.",
      ],
      ["Resume subscription", "resume", "Your subscription has been resumed."],
      ["Cancel immediately", "cancel_now", "Your subscription has been canceled."],
    ] as const) {
      await page.getByRole("button", { name: button }).focus();
      await Promise.all([
        page.waitForURL(`${portal.url}?done=${done}`),
        page.keyboard.press("Enter"),
      ]);
      expect((await page.getByRole("status").textContent())?.trim()).toBe(message);
      expect(await axeViolations(page)).toEqual([]);
    }
    expect(await page.getByRole("button").count()).toBe(0);
    expect(await page.getByText(/^Canceled on /).count()).toBe(1);
    expect(await page.getByRole("link", { name: "Return to irc.now" }).getAttribute("href")).toBe(
      billingUrl,
    );
    await page.close();
  });

  it("control page: accessible, and its buttons work without script", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${stripe.url}/_standin`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "Stripe stand-in control",
    );
    expect(await axeViolations(page)).toEqual([]);
    await Promise.all([
      page.waitForURL(/message=/),
      page.getByRole("button", { name: "Renew" }).first().click(),
    ]);
    expect(await page.getByRole("status").textContent()).toMatch(
      /^renew sub_\w+: customer\.subscription\.updated, invoice\.paid$/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await page.close();
  });
});
