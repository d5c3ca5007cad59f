import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { startProduct, type Product } from "../src/product";
import { signInFromLanding } from "../src/sign-in";

// The admin console's user pages against the whole product: a pro user in their grace period
// with billing events, and a user whose account deletion is waiting; the admin finds both,
// reads them, retries the deletion (the real worker then finishes it), and every page is
// accessible.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const tag = randomUUID().slice(0, 6);
const payer = { id: "", username: `payer-${tag}` };
const leaver = { id: "", username: `leaver-${tag}` };
const pastDueSince = new Date(Date.now() - 2 * 86_400_000);
let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let db: AccountsDb;
let page: Page;

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct();
  db = createAccountsDb(product.stack.env.DATABASE_URL!, { max: 2 });
  ({ browser, close: closeBrowser } = await launchChromium());
  const [p] = await db
    .insert(accounts.users)
    .values({
      keycloakSubject: randomUUID(),
      username: payer.username,
      email: `${payer.username}@example.org`,
      displayName: "Payer",
      plan: "pro",
      stripeCustomerId: `cus_${tag}`,
      stripeSubscriptionId: `sub_${tag}`,
      stripeSubscriptionStatus: "past_due",
      pastDueSince,
      subscriptionCancelAtPeriodEnd: true,
      subscriptionPeriodEnd: new Date(Date.now() + 20 * 86_400_000),
    })
    .returning();
  payer.id = p!.id;
  await db.insert(accounts.processedStripeEvents).values([
    {
      eventId: `evt_a_${tag}`,
      type: "checkout.session.completed",
      userId: payer.id,
      outcome: "plan free → pro",
      receivedAt: new Date(Date.now() - 10 * 86_400_000),
    },
    {
      eventId: `evt_b_${tag}`,
      type: "invoice.payment_failed",
      userId: payer.id,
      outcome: "past_due: pro until the grace period ends",
      receivedAt: pastDueSince,
    },
  ]);
  const [l] = await db
    .insert(accounts.users)
    .values({ keycloakSubject: randomUUID(), username: leaver.username })
    .returning();
  leaver.id = l!.id;
  // As if the worker had failed and backed off for an hour.
  await db.insert(accounts.accountDeletions).values({
    userId: leaver.id,
    keycloakSubject: l!.keycloakSubject,
    username: leaver.username,
    step: "bouncers",
    attempts: 3,
    lastError: "unavailable: Kubernetes list timed out",
    nextAttemptAt: new Date(Date.now() + 3_600_000),
  });
});
afterAll(async () => {
  await closeBrowser?.();
  await db?.$client.end();
  await product?.stop();
});

async function signInAsAdmin() {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signInFromLanding(page, product.web.url, "admin", "admin-password");
}

describe("admin: users", () => {
  it("lists and searches users, marking the pending deletion", async () => {
    await signInAsAdmin();
    await page.goto(`${product.web.url}/admin`);
    await page
      .getByRole("navigation", { name: "Admin" })
      .getByRole("link", { name: "Users" })
      .click();
    await page.waitForURL(`${product.web.url}/admin/users`);
    await expect.poll(() => page.title()).toBe("Users · Admin · irc.now");
    await expect
      .poll(() => page.getByTestId(`admin-user-row-${leaver.username}`).textContent(), {
        timeout: 20_000,
      })
      .toContain("Deletion pending");
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole("searchbox", { name: "Search" }).fill(`PAYER-${tag}@`);
    await expect.poll(() => new URL(page.url()).searchParams.get("q")).toBe(`PAYER-${tag}@`);
    const rows = page.getByRole("table").locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    const row = page.getByTestId(`admin-user-row-${payer.username}`);
    expect(await row.textContent()).toMatch(/pro.*Past due/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: "/tmp/admin-users-list.png", fullPage: true });
    await page.screenshot({ path: `${outDir}/admin-users-list.png`, fullPage: true });
  });

  it("shows a user's billing, grace deadline, Stripe link and events", async () => {
    await page.getByRole("link", { name: payer.username }).click();
    await page.waitForURL(`${product.web.url}/admin/users/${payer.username}`);
    const billing = page.getByTestId("user-billing");
    await billing.waitFor();
    await expect.poll(() => page.title()).toBe(`${payer.username} · Admin · irc.now`);
    expect(await page.getByTestId("grace").textContent()).toMatch(/Keeps pro until/);
    expect(await page.getByTestId("cancel-at-period-end").textContent()).toMatch(
      /Cancels at the period end/,
    );
    // The stand-in's key is a test key: the test-mode dashboard.
    expect(await page.getByTestId("stripe-customer").getAttribute("href")).toBe(
      `https://dashboard.stripe.com/test/customers/cus_${tag}`,
    );
    const events = page.getByTestId("billing-event");
    expect(await events.count()).toBe(2);
    expect(await events.first().textContent()).toContain("invoice.payment_failed");
    // The sign-in page of another test may have queued nothing for this user: up to date.
    expect(await page.getByTestId("user-outbox").textContent()).toContain("Up to date");
    const html = await page.content();
    expect(html).not.toContain(product.stack.env.STRIPE_SECRET_KEY!);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: "/tmp/admin-users-detail.png", fullPage: true });
    await page.screenshot({ path: `${outDir}/admin-users-detail.png`, fullPage: true });
  });

  it("retries a waiting deletion; the worker finishes it; the retry is audited", async () => {
    await page.goto(`${product.web.url}/admin/users/${leaver.username}`);
    const deletion = page.getByTestId("user-deletion");
    await deletion.waitFor();
    expect(await deletion.textContent()).toContain("unavailable: Kubernetes list timed out");
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: "/tmp/admin-users-deletion.png", fullPage: true });

    await page
      .getByRole("button", { name: `Retry now the deletion of ${leaver.username}` })
      .click();
    await expect
      .poll(() => page.getByTestId("deletion-status").textContent())
      .toContain("Retry queued");
    expect(await axeViolations(page)).toEqual([]);
    // Woken by the NOTIFY, the worker runs every step: the deletion completes.
    await expect
      .poll(
        async () =>
          (
            await db
              .select({ completedAt: accounts.accountDeletions.completedAt })
              .from(accounts.accountDeletions)
              .where(eq(accounts.accountDeletions.userId, leaver.id))
          )[0]?.completedAt ?? null,
        { timeout: 30_000, interval: 500 },
      )
      .not.toBeNull();
    const audit = await db
      .select()
      .from(accounts.adminAuditLog)
      .where(eq(accounts.adminAuditLog.action, "account_deletion.retry"));
    expect(audit).toHaveLength(1);
    // The account is gone, so its audit entry now names it anonymously.
    expect(audit[0]!.target).toMatch(/^user\/deleted-user-/);
    expect(audit[0]!.actorUsername).toBe("admin");
  });
});
