import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { startWebServer, type WebServer } from "../src/web-server";

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));

describe("[PUBLIC] landing page", () => {
  let web: WebServer;
  let browser: Browser;
  let closeBrowser: () => Promise<void>;

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase(inject("postgresUrl"), "e2e");
    await migrateAccounts(databaseUrl);
    web = await startWebServer({ DATABASE_URL: databaseUrl });
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
    await mobile.screenshot({ path: `${outDir}/landing-mobile.png`, fullPage: true });
    expect(await axeViolations(mobile)).toEqual([]);
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
