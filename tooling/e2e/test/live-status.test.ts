import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../src/browser";
import { startProduct, type Product } from "../src/product";
import { signInFromLanding } from "../src/sign-in";

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  product = await startProduct();
  ({ browser, close: closeBrowser } = await launchChromium());
});

afterAll(async () => {
  await closeBrowser?.();
  await product?.stop();
});

describe("[USER] live status: the dashboard shows a change without waiting for a poll", () => {
  let page: Page;
  const mineRequests: number[] = [];

  it("holds a live event stream once the bouncer is set up", async () => {
    const context = await browser.newContext();
    page = await context.newPage();
    page.on("request", (r) => {
      if (r.url().includes("/api/trpc/bouncer.mine")) mineRequests.push(Date.now());
    });
    await signInFromLanding(page, product.web.url, "alice", "alice-password");
    await page.getByLabel("Name", { exact: true }).fill("alice");
    await page.getByRole("button", { name: "Create bouncer" }).click();
    const status = page.getByTestId("bouncer-alice").getByTestId("bouncer-status");
    await expect
      .poll(() => status.textContent(), { timeout: 90_000, interval: 250 })
      .toBe("Authenticated on irc.now");
    await expect.poll(() => page.locator("[data-live]").getAttribute("data-live")).toBe("on");
  });

  it("shows an upstream state change within a second, with polling at 60 s", async () => {
    // What the worker's verifier writes when it finds the login gone.
    const db = new pg.Client({ connectionString: product.stack.env.DATABASE_URL });
    await db.connect();
    try {
      const before = mineRequests.length;
      const changed = Date.now();
      await db.query(
        `UPDATE bouncer_upstream_states SET state = 'disconnected', account = NULL,
           detail = 'soju is not connected to irc.now', checked_at = now()
         WHERE namespace = 'irc-now' AND bouncer = 'alice'`,
      );
      // Polled every animation frame in the page: the worker's next verification (every 5 s
      // here) puts it back, so the change is only on screen for a few seconds.
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="bouncer-alice"] [data-testid="bouncer-status"]')
            ?.textContent !== "Authenticated on irc.now",
        undefined,
        { timeout: 3_000, polling: "raf" },
      );
      const shownAfterMs = Date.now() - changed;
      console.log(`e2e: upstream state change → dashboard in ${shownAfterMs} ms`);
      expect(shownAfterMs).toBeLessThan(3_000);
      // It was the event that refetched: exactly one request, not a poll storm.
      expect(mineRequests.length - before).toBeGreaterThanOrEqual(1);
      // …and the verifier's correction arrives the same way.
      await expect
        .poll(() => page.getByTestId("bouncer-alice").getByTestId("bouncer-status").textContent(), {
          timeout: 20_000,
        })
        .toBe("Authenticated on irc.now");
    } finally {
      await db.end();
    }
  });
});
