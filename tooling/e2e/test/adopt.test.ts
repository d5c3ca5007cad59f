import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { saregister } from "../src/ergo-client";
import { startProduct, type Product } from "../src/product";
import { screenshotter, signInFromLanding } from "../src/sign-in";

// An ergo account named like the user exists before the user signs up (staff, a bot, an earlier
// registration): the worker must not reset it; an admin adopts it in the browser; setup then
// succeeds and the audit log shows the adoption. Also: a username ergo can never have is
// refused at sign-in.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = screenshotter(outDir);

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let user: Page;
let admin: Page;

/** Up to Keycloak's redirect back: the callers wait for where it ends. */
const signIn = (page: Page, username: string, password: string) =>
  signInFromLanding(page, product.web.url, username, password, { waitForDashboard: false });

async function expectAccessible(page: Page): Promise<void> {
  expect(await axeViolations(page)).toEqual([]);
}

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct({
    extraUsers: [
      {
        username: "guest-carol",
        password: "carol-password",
        email: "carol@irc-now.test",
        firstName: "Carol",
        emailVerified: true,
      },
    ],
  });
  ({ browser, close: closeBrowser } = await launchChromium());
});

afterAll(async () => {
  await closeBrowser?.();
  await product?.stop();
});

describe("[SETUP] an ergo account 'alice' exists that the portal does not own", () => {
  it("is registered on ergo directly, before alice ever signs in", async () => {
    const env = product.stack.env;
    const reply = await saregister({
      ircUrl: env.ERGO_IRC_URL!,
      operName: env.ERGO_OPER_NAME!,
      operPassword: env.ERGO_OPER_PASSWORD!,
      account: "alice",
      password: "someone-elses-password",
    });
    expect(reply).toBe("Successfully registered account alice");
  });
});

describe("[USER] alice creates a bouncer; its setup waits for staff", () => {
  it("shows plain words, never the worker's error", async () => {
    user = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(user, "alice", "alice-password");
    await user.waitForURL(`${product.web.url}/dashboard`);
    await user.getByLabel("Name").fill("alice");
    await user.getByRole("button", { name: "Create bouncer" }).click();
    const card = user.getByTestId("bouncer-alice");
    await expect
      .poll(() => card.getByTestId("bouncer-status").textContent(), {
        timeout: 90_000,
        interval: 1_000,
      })
      .toBe("Waiting for irc.now staff");
    const text = (await card.textContent()) ?? "";
    expect(text).toContain("Waiting for irc.now staff: your IRC account name needs a check");
    expect(text).toContain("You don't need to do anything");
    expect(text).not.toMatch(/portal does not own|not reset|ergo account/i);
    await shot(user, "adopt-user-waiting");
    await expectAccessible(user);
  });
});

describe("[ADMIN] sees 'Needs admin' with the reason, adopts the account", () => {
  it("lists the bouncer as needing an admin, with the worker's reason", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    admin = await context.newPage();
    await signIn(admin, "admin", "admin-password");
    await admin.waitForURL(`${product.web.url}/dashboard`);
    await admin.goto(`${product.web.url}/admin`);
    const banner = admin.getByTestId("needs-admin-banner");
    await expect
      .poll(() => banner.textContent(), { timeout: 40_000 })
      .toContain("1 bouncer needs an admin.");
    await shot(admin, "adopt-admin-banner");
    await expectAccessible(admin);
    await banner.getByRole("button", { name: "Show it" }).click();
    await expect
      .poll(() => admin.getByTestId("admin-filter-phase").inputValue())
      .toBe("needs_admin");
    const row = admin.getByTestId("admin-bouncer-row-alice");
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Needs admin");
    const reason = (await row.getByTestId("needs-admin-reason").textContent()) ?? "";
    expect(reason).toContain('"alice"');
    expect(reason).toMatch(/exists/);
    await shot(admin, "adopt-admin-list");
    await expectAccessible(admin);
  });

  it("adopts the account after a confirmation that says what it does", async () => {
    await admin.getByTestId("admin-bouncer-row-alice").getByRole("link", { name: "alice" }).click();
    await admin.waitForURL(/\/admin\/bouncers\/alice$/);
    await expect
      .poll(() => admin.getByTestId("needs-admin").textContent(), { timeout: 20_000 })
      .toMatch(/Needs admin.*"alice".*exists/s);
    await expect.poll(() => admin.getByTestId("ergo-account-ownership").textContent()).toBe("No");
    await shot(admin, "adopt-admin-detail");
    await expectAccessible(admin);

    await admin.getByRole("button", { name: "Adopt account…" }).click();
    const dialog = admin.getByRole("dialog", { name: "Adopt ergo account alice?" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const dialogText = (await dialog.textContent()) ?? "";
    expect(dialogText).toContain("resets the account's password to the user's irc.now credential");
    // Focus starts in the dialog (reason field), so keyboard users land in it.
    await expect
      .poll(() => admin.evaluate("document.activeElement?.getAttribute('data-testid')"))
      .toBe("adopt-reason");
    // Too short a reason is refused in place.
    await dialog.getByRole("button", { name: "Adopt account" }).click();
    await expect
      .poll(() => dialog.getByRole("alert").textContent())
      .toBe("Say briefly why (at least 3 characters).");
    await dialog.getByLabel("Reason").fill("e2e: alice registered it on IRC before signing up");
    await shot(admin, "adopt-admin-dialog");
    await expectAccessible(admin);
    await dialog.getByRole("button", { name: "Adopt account" }).click();
    await expect
      .poll(() => admin.getByTestId("adopt-status").textContent())
      .toContain("Adopted. Setup runs again");
    expect(await dialog.isVisible()).toBe(false);
    await expect
      .poll(() => admin.getByTestId("ergo-account-ownership").textContent())
      .toMatch(/^Yes, for alice \(adopted by admin,/);
  });

  it("ends with the bouncer authenticated on irc.now, for the admin and for alice", async () => {
    await expect
      .poll(() => admin.getByTestId("needs-admin").count(), { timeout: 90_000, interval: 1_000 })
      .toBe(0);
    await user.reload();
    await expect
      .poll(() => user.getByTestId("bouncer-alice").getByTestId("bouncer-status").textContent(), {
        timeout: 90_000,
        interval: 1_000,
      })
      .toBe("Authenticated on irc.now");
    await shot(user, "adopt-user-authenticated");
    await admin.reload();
    await expect
      .poll(() => admin.getByRole("heading", { level: 1 }).locator("..").textContent(), {
        timeout: 30_000,
      })
      .toContain("Authenticated");
    await shot(admin, "adopt-admin-detail-after");
  });

  it("shows the adoption in the audit log", async () => {
    await admin.goto(`${product.web.url}/admin/audit`);
    const entry = admin.getByTestId("audit-row").first();
    await expect.poll(() => entry.textContent()).toContain("Adopted ergo account");
    const text = (await entry.textContent()) ?? "";
    expect(text).toContain("ergo_account.adopt");
    expect(text).toContain("Account: alice");
    expect(text).toContain("e2e: alice registered it on IRC before signing up");
    expect(text).toContain("sojubouncer/irc-now/alice");
    await shot(admin, "adopt-admin-audit");
    await expectAccessible(admin);
  });
});

describe("[USER] a username ergo can never have is refused at sign-in", () => {
  it("explains why on the sign-in problem page", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, "guest-carol", "carol-password");
    await page.waitForURL(/\/auth\/error\?/);
    expect(new URL(page.url()).searchParams.get("error")).toBe("UsernameReserved");
    expect(await page.getByTestId("auth-error-message").textContent()).toContain(
      "Your username is reserved on the irc.now IRC network",
    );
    expect(await page.getByTestId("auth-error-reason").textContent()).toContain("Guest-");
    await shot(page, "signin-reserved-username");
    await expectAccessible(page);
    // No session was made: the dashboard still asks to sign in.
    await page.goto(`${product.web.url}/dashboard`);
    await page.waitForURL(/\/signin/);
  });
});
