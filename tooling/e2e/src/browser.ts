import { chromium, type Browser } from "playwright-core";

/**
 * Debian's Chromium, headless, with the flags this sandboxed, offline machine needs
 * (Playwright gives each launch its own fresh temporary profile).
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
  return { browser, close: () => browser.close().catch(() => undefined) };
}
