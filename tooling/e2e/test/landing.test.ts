import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { focused, horizontalOverflow } from "../src/page-checks";
import { startWebServer, type WebServer } from "../src/web-server";

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));

describe("[PUBLIC] landing page", () => {
  let web: WebServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase(inject("postgresUrl"), "e2e");
    await migrateAccounts(databaseUrl);
    // Sign-in settings that are never used to sign in (nothing answers at the issuer): enough
    // for the pages a signed-out visitor reaches (/signin, /signed-out) to render.
    web = await startWebServer({
      DATABASE_URL: databaseUrl,
      AUTH_URL: "http://127.0.0.1:3000",
      AUTH_SECRET: "landing-test-secret-landing-test-secret-0123",
      KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
      KEYCLOAK_CLIENT_ID: "account-portal",
      KEYCLOAK_CLIENT_SECRET: "unused",
      KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
      KEYCLOAK_ADMIN_CLIENT_SECRET: "unused",
      STRIPE_SECRET_KEY: "sk_test_unused",
      STRIPE_WEBHOOK_SECRET: "whsec_unused",
      STRIPE_PRICE_PRO: "price_unused",
      STRIPE_API_URL: "http://127.0.0.1:9",
    });
    ({ browser, close: closeBrowser } = await launchChromium());
    await mkdir(outDir, { recursive: true });
  });

  afterAll(async () => {
    await closeBrowser?.();
    await web?.stop();
  });

  it("renders in Chromium with its heading and a sign-in button", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const response = await page.goto(web.url);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toContain("irc.now");
    await expect
      .poll(() => page.getByRole("heading", { level: 1 }).textContent())
      .toBe("Your IRC, always on.");
    expect(
      await page.getByRole("button", { name: "Sign in to get your bouncer" }).isVisible(),
    ).toBe(true);
    expect(await page.getByRole("link", { name: "How it works" }).getAttribute("href")).toBe(
      "#how-it-works",
    );
    await page.screenshot({ path: `${outDir}/landing.png`, fullPage: true });
    expect(await axeViolations(page)).toEqual([]);

    const mobile = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await mobile.goto(web.url);
    expect(await mobile.getByRole("heading", { level: 1 }).isVisible()).toBe(true);
    expect(await horizontalOverflow(mobile)).toBe(0);
    await mobile.screenshot({ path: `${outDir}/landing-mobile.png`, fullPage: true });
    expect(await axeViolations(mobile)).toEqual([]);
    await mobile.setViewportSize({ width: 320, height: 640 });
    expect(await horizontalOverflow(mobile)).toBe(0);
  });

  it("links every promise to a page that exists, and promises nothing unmeasured or unbuilt", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(web.url);
    const features = page.getByRole("region", { name: "What you get" }).getByRole("listitem");
    expect(await features.count()).toBeGreaterThanOrEqual(3);
    for (const feature of await features.all()) {
      const title = await feature.getByRole("heading").textContent();
      expect(await feature.getByRole("link").count(), `"${title}" links nowhere`).toBe(1);
    }
    const hrefs = await page
      .locator("a[href]")
      .evaluateAll((links) => links.map((a) => a.getAttribute("href") ?? ""));
    expect(hrefs.length).toBeGreaterThan(4);
    for (const href of new Set(hrefs)) {
      if (href.startsWith("#")) {
        expect(await page.locator(href).count(), `no element for ${href}`).toBe(1);
        continue;
      }
      expect(href, "links stay on irc.now (nothing to check offline)").toMatch(/^\//);
      // Follow redirects (e.g. /dashboard → /signin) to a page that answers 200.
      const res = await fetch(`${web.url}${href}`);
      expect(res.status, `${href} answers ${res.status}`).toBe(200);
      const [path, fragment] = href.split("#");
      if (fragment) {
        const target = await browser.newPage();
        await target.goto(`${web.url}${path}`);
        expect(
          await target.locator(`[id="${fragment}"]`).count(),
          `no #${fragment} on ${path}`,
        ).toBe(1);
        await target.close();
      }
    }
    const text = (await page.locator("main").textContent()) ?? "";
    // IRCCloud import and paid plans are not built; setup time depends on the cluster.
    expect(text).not.toMatch(/IRCCloud|under a minute|about a minute|Pro adds/);
    await page.close();
  });

  it("has a favicon (SVG, with an .ico for older browsers)", async () => {
    const page = await browser.newPage();
    await page.goto(web.url);
    const href = await page.locator("link[rel~='icon'][type='image/svg+xml']").getAttribute("href");
    expect(href).toBeTruthy();
    const svg = await fetch(new URL(href!, web.url));
    expect(svg.status).toBe(200);
    expect(svg.headers.get("content-type")).toContain("image/svg+xml");
    const ico = await fetch(`${web.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get("content-type")).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
    await page.close();
  });

  it("starts with a skip link to the main content", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(web.url);
    await page.keyboard.press("Tab");
    expect(await focused(page)).toMatchObject({ tag: "a", text: "Skip to main content" });
    expect(
      await page.getByRole("link", { name: "Skip to main content" }).boundingBox(),
    ).not.toBeNull();
    await page.keyboard.press("Enter");
    expect(await focused(page)).toMatchObject({ tag: "main" });
    await page.close();
  });

  it("shows a styled 404 with the site header for an unknown page", async () => {
    for (const [viewport, name] of [
      [{ width: 1280, height: 900 }, "not-found"],
      [{ width: 390, height: 844 }, "not-found-phone"],
    ] as const) {
      const page = await browser.newPage({ viewport });
      const res = await page.goto(`${web.url}/no/such/page`);
      expect(res?.status()).toBe(404);
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Page not found");
      expect(await page.title()).toBe("Page not found · irc.now");
      expect(await page.getByRole("banner").getByRole("link", { name: "irc.now" }).count()).toBe(1);
      // The app's dark page, not Next's white default.
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).not.toBe(
        "rgb(255, 255, 255)",
      );
      expect(await horizontalOverflow(page)).toBe(0);
      await page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });
      expect(await axeViolations(page)).toEqual([]);
      await page.close();
    }
  });

  it("renders the sign-in, signed-out and help pages accessibly, with the site header", async () => {
    for (const [path, heading, title, name] of [
      ["/signin", "Sign in to irc.now", "Sign in · irc.now", "signin-page"],
      ["/signed-out", "You are signed out", "Signed out · irc.now", "signed-out-page"],
      ["/help", "Using your bouncer", "Help · irc.now", "help-page"],
      ["/auth/error?error=Callback", "Sign-in problem", "Sign-in problem · irc.now", "auth-error"],
    ] as const) {
      for (const viewport of [
        { width: 1280, height: 900 },
        { width: 320, height: 640 },
      ]) {
        const page: Page = await browser.newPage({ viewport });
        const res = await page.goto(`${web.url}${path}`);
        expect(res?.status()).toBe(200);
        expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(heading);
        expect(await page.title()).toBe(title);
        expect(await page.getByRole("banner").count()).toBe(1);
        expect(await horizontalOverflow(page)).toBe(0);
        await page.screenshot({
          path: `${outDir}/${name}${viewport.width < 400 ? "-phone" : ""}.png`,
          fullPage: true,
        });
        expect(await axeViolations(page)).toEqual([]);
        await page.close();
      }
    }
  });

  it("sends security headers", async () => {
    const res = await fetch(web.url);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const directive of [
      "default-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "form-action 'self'",
    ])
      expect(csp).toContain(directive);
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
    expect(res.headers.get("x-powered-by")).toBeNull();
  });

  it("reports DB connectivity at /api/healthz", async () => {
    const res = await fetch(`${web.url}/api/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", db: true });
  });

  it("reports 503 at /api/healthz when the DB is unreachable, without leaking the URL", async () => {
    const broken = await startWebServer({
      DATABASE_URL: "postgresql://portal:leaky-pw@127.0.0.1:1/accounts",
    });
    try {
      const res = await fetch(`${broken.url}/api/healthz`);
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ status: "degraded", db: false });
      expect(body).not.toContain("leaky-pw");
    } finally {
      await broken.stop();
    }
  });
});
