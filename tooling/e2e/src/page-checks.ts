import type { Locator, Page } from "playwright-core";

/** What has keyboard focus: enough to tell which element it is in an assertion message. */
export interface FocusedElement {
  tag: string;
  id: string | null;
  testId: string | null;
  text: string;
  /** Inside an open `<dialog>`, or an element with role="dialog". */
  inDialog: boolean;
}

export function focused(page: Page): Promise<FocusedElement | null> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id || null,
      testId: el.getAttribute("data-testid"),
      text: (el.textContent ?? "").trim().slice(0, 120),
      inDialog: Boolean(el.closest("dialog[open], [role=dialog]")),
    };
  });
}

/** True when the element has keyboard focus. */
export function hasFocus(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === document.activeElement);
}

/** The texts of the elements an element's aria-describedby points at, in order. */
export function describedBy(locator: Locator): Promise<string[]> {
  return locator.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => (document.getElementById(id)?.textContent ?? `#${id} is missing`).trim()),
  );
}

/** How many CSS pixels the page is wider than the viewport (0: no horizontal scrolling). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
}

/** How many lines an element's text is laid out on. */
export function textLines(locator: Locator): Promise<number> {
  return locator.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    return tops.size;
  });
}

/**
 * Console errors the page's own code logs (console.error, uncaught exceptions). The browser's
 * own network line for a 4xx/5xx answer ("Failed to load resource") is not the page's code.
 */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (/^Failed to load resource/.test(message.text())) return;
    errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  return errors;
}
