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

// The admin console's Keycloak sync page against the whole product: a portal user Keycloak
// does not have gets a profile change queued; the real worker's push is refused (not_found) and
// held; the admin sees it, retries it (audited), and the page is accessible.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let db: AccountsDb;
let page: Page;
const ghost = { id: "", username: `ghost-${randomUUID().slice(0, 6)}` };

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct();
  db = createAccountsDb(product.stack.env.DATABASE_URL!, { max: 2 });
  ({ browser, close: closeBrowser } = await launchChromium());
});
afterAll(async () => {
  await closeBrowser?.();
  await db?.$client.end();
  await product?.stop();
});

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${product.workerUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

describe("admin: Keycloak sync", () => {
  it("the worker holds a push Keycloak refuses with not_found", async () => {
    await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(accounts.users)
        .values({ keycloakSubject: randomUUID(), username: ghost.username, displayName: "Ghost" })
        .returning();
      ghost.id = user!.id;
      await accounts.enqueueKeycloakSync(tx, user!.id, "profile");
    });
    await expect
      .poll(() => metric("irc_now_keycloak_outbox_held"), { timeout: 30_000, interval: 500 })
      .toBe(1);
  });

  it("lists it, retries it from the browser and records it in the audit log", async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signInFromLanding(page, product.web.url, "admin", "admin-password");
    await page.goto(`${product.web.url}/admin`);
    await page
      .getByRole("navigation", { name: "Admin" })
      .getByRole("link", { name: "Keycloak sync" })
      .click();
    await page.waitForURL(`${product.web.url}/admin/outbox`);
    const item = page.getByTestId("outbox-item").filter({ hasText: ghost.username });
    await expect.poll(() => item.textContent(), { timeout: 20_000 }).toContain("not in Keycloak");
    expect(await item.textContent()).toMatch(/not_found/);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: `${outDir}/admin-outbox.png`, fullPage: true });

    await item.getByRole("button", { name: `Retry now for ${ghost.username}` }).click();
    await expect
      .poll(() => page.getByTestId("outbox-status").textContent())
      .toContain(`Retry queued for ${ghost.username}`);
    expect(await axeViolations(page)).toEqual([]);
    // The worker pushed again (still no such user): attempts went up.
    await expect
      .poll(
        async () =>
          (
            await db
              .select({ attempts: accounts.keycloakOutbox.attempts })
              .from(accounts.keycloakOutbox)
              .where(eq(accounts.keycloakOutbox.userId, ghost.id))
          )[0]?.attempts,
        { timeout: 20_000 },
      )
      .toBe(2);

    await page
      .getByRole("navigation", { name: "Admin" })
      .getByRole("link", { name: "Audit log" })
      .click();
    await expect
      .poll(() => page.getByTestId("audit-row").first().textContent(), { timeout: 20_000 })
      .toContain("keycloak_outbox.retry");
  });
});
