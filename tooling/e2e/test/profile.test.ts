import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { and, eq, isNull } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { describedBy, hasFocus } from "../src/page-checks";
import { startProduct, type Product } from "../src/product";
import { submitKeycloakLogin } from "../src/sign-in";

// Issue 13 acceptance: alice edits her name and email on /profile, sees the verify-email notice,
// signs out and in, and the ID token the portal receives carries plan=free and
// content_expires=true (pushed by the real worker from the Keycloak outbox). The ID tokens are
// read from the Keycloak stand-in's record of what it issued.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = async (page: Page, name: string) => {
  await page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });
  await page.screenshot({ path: `/tmp/irc-now-${name}.png`, fullPage: true });
};
const NEW_NAME = "Alice Pleasance Liddell";
const NEW_EMAIL = "alice.pleasance@irc-now.test";

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let page: Page;
let db: AccountsDb;

const keycloakOrigin = () => new URL(product.stack.env.KEYCLOAK_ISSUER!).origin;
const standin = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${keycloakOrigin()}/_standin/${path}`)).json()) as T;

async function expectAccessible(p: Page) {
  expect(await axeViolations(p)).toEqual([]);
}

const signInAsAlice = (p: Page) => submitKeycloakLogin(p, "alice", "alice-password");

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct();
  db = createAccountsDb(product.stack.env.DATABASE_URL!);
  ({ browser, close: closeBrowser } = await launchChromium());
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

afterAll(async () => {
  await closeBrowser?.();
  await db?.$client.end();
  await product?.stop();
});

describe("[USER] profile", () => {
  it("alice opens her profile from the main navigation: name and email from Keycloak, plan free, expiry fixed on", async () => {
    await page.goto(product.web.url);
    await page.getByRole("button", { name: "Sign in to get your bouncer" }).click();
    await signInAsAlice(page);
    await page.waitForURL(`${product.web.url}/dashboard`);
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Profile" })
      .click();
    await page.waitForURL(`${product.web.url}/profile`);
    // A client-side navigation: the URL changes before the new title is applied.
    await expect.poll(() => page.title()).toBe("Profile · irc.now");
    const name = page.getByLabel("Display name");
    await expect.poll(() => name.inputValue()).toBe("Alice Liddell");
    expect(await page.getByLabel("Email").inputValue()).toBe("alice@irc-now.test");
    expect(await page.getByTestId("profile-plan").textContent()).toBe("Free");
    const expiry = page.getByLabel("Delete my stored content after 90 days");
    expect(await expiry.isChecked()).toBe(true);
    expect(await expiry.isDisabled()).toBe(true);
    expect((await describedBy(expiry)).join(" ")).toMatch(/free plan .* always expires/);
    await shot(page, "profile");
    await expectAccessible(page);
  });

  it("bad input: each problem under its field, focus on the first, what she typed kept", async () => {
    const name = page.getByLabel("Display name");
    const email = page.getByLabel("Email");
    await name.fill("x".repeat(65));
    await email.fill("alice@");
    await page.getByRole("button", { name: "Save profile" }).click();
    await expect.poll(() => hasFocus(name)).toBe(true);
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    expect(await describedBy(name)).toContain("Use at most 64 characters for your display name.");
    expect(await describedBy(email)).toContain("Enter an email address like name@example.com.");
    expect(await name.inputValue()).toBe("x".repeat(65));
    expect(await email.inputValue()).toBe("alice@");
    await shot(page, "profile-errors");
    await expectAccessible(page);
  });

  it("saves a new name and email: announced, with the verify-email notice; Keycloak sent VERIFY_EMAIL", async () => {
    await page.getByLabel("Display name").fill(NEW_NAME);
    await page.getByLabel("Email").fill(NEW_EMAIL);
    await page.getByRole("button", { name: "Save profile" }).click();
    const notice = page.getByTestId("profile-notice");
    await expect.poll(() => notice.textContent()).toContain("Your profile is saved.");
    expect(await notice.textContent()).toContain(`Check your inbox at ${NEW_EMAIL} to verify`);
    expect(await notice.getAttribute("aria-live")).toBe("polite");
    expect(await page.getByLabel("Display name").getAttribute("aria-invalid")).toBeNull();
    const emails =
      await standin<Array<{ email: string; actions: string[] }>>("emails?username=alice");
    expect(emails.map((e) => [e.email, e.actions])).toEqual([[NEW_EMAIL, ["VERIFY_EMAIL"]]]);
    await shot(page, "profile-saved");
    await expectAccessible(page);
  });

  it("after the worker pushed it, signing out and in gives an ID token with plan=free, content_expires=true", async () => {
    const user = (
      await db.select().from(accounts.users).where(eq(accounts.users.username, "alice"))
    )[0]!;
    // The real worker drains the outbox (login and profile rows) into Keycloak.
    await expect
      .poll(
        async () =>
          (
            await db
              .select()
              .from(accounts.keycloakOutbox)
              .where(
                and(
                  eq(accounts.keycloakOutbox.userId, user.id),
                  isNull(accounts.keycloakOutbox.deliveredAt),
                ),
              )
          ).length,
        { timeout: 60_000, interval: 500 },
      )
      .toBe(0);
    const before = (await standin<unknown[]>("id-token-claims?username=alice")).length;

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${product.web.url}/signed-out`);
    await page.goto(`${product.web.url}/profile`);
    await page.waitForURL(/\/signin/);
    await page.getByRole("button", { name: "Continue to sign in" }).click();
    await signInAsAlice(page);
    await page.waitForURL(`${product.web.url}/profile`);

    const claims = await standin<Array<Record<string, unknown>>>("id-token-claims?username=alice");
    expect(claims.length).toBe(before + 1);
    const idToken = claims.at(-1)!;
    expect(idToken).toMatchObject({
      plan: "free",
      content_expires: "true",
      name: NEW_NAME,
      email: NEW_EMAIL,
      email_verified: false,
    });
    // The portal shows what it saved, and the login did not put anything old back.
    await expect.poll(() => page.getByLabel("Display name").inputValue()).toBe(NEW_NAME);
    expect(await page.getByLabel("Email").inputValue()).toBe(NEW_EMAIL);
  });
});
