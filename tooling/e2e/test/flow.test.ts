import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { startProduct, type Product } from "../src/product";

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = (page: Page, name: string) =>
  page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(product.web.url);
  await page.getByRole("button", { name: "Sign in to get your bouncer" }).click();
  await page.getByLabel("Username or email").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign In" }).click();
  await page.waitForURL(`${product.web.url}/dashboard`);
}

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct();
  ({ browser, close: closeBrowser } = await launchChromium());
});

afterAll(async () => {
  await closeBrowser?.();
  await product?.stop();
});

describe("[USER] sign in, create a bouncer, watch it authenticate, delete it", () => {
  let page: Page;

  it("signs in through the Keycloak stand-in", async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, "alice", "alice-password");
    await expect.poll(() => page.getByTestId("signed-in-as").textContent()).toBe("alice");
    await expect.poll(() => page.getByText("You have no bouncer yet").isVisible()).toBe(true);
    await shot(page, "dashboard-empty");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("rejects a bad name with a clear message", async () => {
    await page.getByLabel("Name").fill("Not Valid!");
    await page.getByRole("button", { name: "Create bouncer" }).click();
    await expect
      .poll(() => page.getByTestId("create-error").textContent())
      .toBe("Use only lowercase letters, digits and hyphens.");
    await shot(page, "dashboard-invalid-name");
  });

  it("creates a bouncer and shows it reaching 'authenticated on irc.now' by itself", async () => {
    await page.getByLabel("Name").fill("alice");
    await page.getByRole("button", { name: "Create bouncer" }).click();
    const card = page.getByTestId("bouncer-alice");
    await expect.poll(() => card.isVisible()).toBe(true);
    await shot(page, "dashboard-provisioning");
    await expect
      .poll(() => card.getByTestId("bouncer-status").textContent(), {
        timeout: 90_000,
        interval: 1_000,
      })
      .toBe("Authenticated on irc.now");
    expect(await card.textContent()).toContain("alice.bouncer.irc.now");
    await expect.poll(() => page.getByTestId("quota-message").isVisible()).toBe(true);
    await shot(page, "dashboard-authenticated");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("is refused the admin console", async () => {
    const res = await page.goto(`${product.web.url}/admin`);
    expect(res?.status()).toBe(403);
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("You do not have access to this page");
    await shot(page, "admin-forbidden");
    expect(await axeViolations(page)).toEqual([]);
  });
});

describe("[ADMIN] sees every bouncer, retries one, sees the audit entry", () => {
  let admin: Page;

  it("lists alice's bouncer with its upstream state", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    admin = await context.newPage();
    await signIn(admin, "admin", "admin-password");
    await admin.goto(`${product.web.url}/admin`);
    const row = admin.getByTestId("admin-bouncer-row-alice");
    await expect.poll(() => row.isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("alice");
    await shot(admin, "admin-bouncers");
    expect(await axeViolations(admin)).toEqual([]);
  });

  it("retries setup with a reason; the worker runs it again; the audit log shows it", async () => {
    await admin
      .getByTestId("admin-bouncer-row-alice")
      .getByRole("link", { name: "alice" })
      .first()
      .click();
    await admin.waitForURL(/\/admin\/bouncers\/alice$/);
    await admin.getByTestId("retry-reason").fill("e2e: checking the retry path");
    await admin.getByTestId("retry-submit").click();
    await expect
      .poll(() => admin.getByTestId("retry-status").textContent())
      .toContain("Setup will run again");
    await expect
      .poll(() => admin.getByTestId("attempt-2").isVisible(), { timeout: 90_000, interval: 1_000 })
      .toBe(true);
    await shot(admin, "admin-bouncer-detail");
    expect(await axeViolations(admin)).toEqual([]);
    await admin.goto(`${product.web.url}/admin/audit`);
    await expect
      .poll(() => admin.getByTestId("audit-row").first().textContent())
      .toContain("e2e: checking the retry path");
    await shot(admin, "admin-audit");
    expect(await axeViolations(admin)).toEqual([]);
  });
});

describe("[USER] deletes the bouncer and signs out", () => {
  it("deletes only after typing the name", async () => {
    const page = (await browser.contexts()[0]!.pages())[0]!;
    await page.goto(`${product.web.url}/dashboard`);
    const card = page.getByTestId("bouncer-alice");
    await card.getByRole("button", { name: "Delete…" }).click();
    await page.getByLabel("Type alice to confirm").fill("alice");
    await shot(page, "dashboard-delete-confirm");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Delete bouncer" }).click();
    await expect
      .poll(() => page.getByText("You have no bouncer yet").isVisible(), { timeout: 20_000 })
      .toBe(true);
  });

  it("signs out of the portal and of Keycloak", async () => {
    const page = (await browser.contexts()[0]!.pages())[0]!;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(
      (url) => url.toString().startsWith(product.web.url) && !url.pathname.startsWith("/dashboard"),
    );
    await page.goto(`${product.web.url}/dashboard`);
    await page.waitForURL(/\/signin/);
    // Keycloak's session is gone too: signing in asks for the password again.
    await page.getByRole("button", { name: "Continue to sign in" }).click();
    await expect.poll(() => page.getByLabel("Password").isVisible()).toBe(true);
    await shot(page, "signed-out-login-again");
  });
});
