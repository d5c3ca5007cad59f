import { mkdir } from "node:fs/promises";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { focused } from "../src/page-checks";
import { startProduct, type Product } from "../src/product";
import { screenshotter, signInFromLanding } from "../src/sign-in";

// Issue 12: alice creates an IRC app password in the browser, a raw IRC client logs in to her
// bouncer's soju with it (PASS and SASL PLAIN; soju asks the web's `auth http` endpoint over
// HTTP of the production build), and after she revokes it the next login fails.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = screenshotter(outDir);

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let page: Page;
let token = "";

/** A raw IRC client: one socket, lines in, a wait for the first line that matches. */
function ircClient(address: { host: string; port: number }) {
  const socket = connect(address.port, address.host);
  socket.setEncoding("utf8");
  const lines: string[] = [];
  let buffer = "";
  const waiters: Array<{ test: RegExp; resolve: (line: string) => void }> = [];
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\r\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      lines.push(line);
      if (line.startsWith("PING")) socket.write(`PONG${line.slice(4)}\r\n`);
      for (const w of [...waiters])
        if (w.test.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  });
  socket.on("error", () => undefined);
  return {
    lines,
    send: (line: string) => socket.write(`${line}\r\n`),
    waitFor(test: RegExp, ms = 15_000): Promise<string> {
      const seen = lines.find((l) => test.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${test} within ${ms} ms; soju said:\n${lines.join("\n")}`)),
          ms,
        );
        waiters.push({
          test,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    close: () => socket.destroy(),
  };
}

type Client = ReturnType<typeof ircClient>;

/** PASS / NICK / USER, as most clients without SASL log in; resolves with 001 or 464. */
async function passLogin(password: string, user = "alice/irc.now"): Promise<[Client, string]> {
  const c = ircClient(sojuAddress());
  c.send(`PASS ${password}`);
  c.send("NICK alice");
  c.send(`USER ${user} 0 * :Alice`);
  return [c, await c.waitFor(/ (001|464) /)];
}

/** CAP + SASL PLAIN; resolves with 903 or 904, and the client (001 follows CAP END). */
async function saslLogin(password: string, user = "alice@laptop"): Promise<[Client, string]> {
  const c = ircClient(sojuAddress());
  c.send("CAP LS 302");
  c.send("NICK alice");
  c.send("USER alice 0 * :Alice");
  await c.waitFor(/ CAP \* LS /);
  c.send("CAP REQ :sasl");
  await c.waitFor(/ CAP \* ACK /);
  c.send("AUTHENTICATE PLAIN");
  await c.waitFor(/^AUTHENTICATE \+$/);
  c.send(`AUTHENTICATE ${Buffer.from(`\0${user}\0${password}`).toString("base64")}`);
  const answer = await c.waitFor(/ (903|904) /);
  c.send("CAP END");
  return [c, answer];
}

function sojuAddress(): { host: string; port: number } {
  const address = product.operator?.get("alice")?.soju.downstreamAddress;
  if (!address) throw new Error("alice's soju has no downstream listener");
  return address;
}

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct({ sojuAuthHttp: true });
  ({ browser, close: closeBrowser } = await launchChromium());
});

afterAll(async () => {
  await closeBrowser?.();
  await product?.stop();
});

describe("[USER] IRC app passwords", () => {
  it("alice gets a bouncer that authenticates on irc.now", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    await signInFromLanding(page, product.web.url, "alice", "alice-password");
    await page.getByLabel("Name", { exact: true }).fill("alice");
    await page.getByRole("button", { name: "Create bouncer" }).click();
    const card = page.getByTestId("bouncer-alice");
    await expect
      .poll(() => card.getByTestId("bouncer-status").textContent(), { timeout: 90_000 })
      .toMatch(/^Authenticated/);
    // Nothing tells a user to type their irc.now sign-in password into an IRC client.
    expect(await page.content()).not.toMatch(/your irc\.now password/i);
    const connect = card.getByTestId("connect-client");
    expect(await connect.textContent()).toContain("alice/irc.now");
  });

  it("creates an app password for this device: shown once, focused, announced, copyable", async () => {
    const card = page.getByTestId("bouncer-alice");
    await card.getByRole("button", { name: "Create an app password for this device" }).click();
    const label = card.getByLabel("Label");
    await expect.poll(() => label.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await label.inputValue()).toMatch(/^IRC client on /);
    await label.fill("e2e laptop");
    expect(await card.getByLabel("Works for").inputValue()).toBe("alice");
    await card.getByRole("button", { name: "Create app password" }).click();
    const secret = card.getByTestId("app-password-token");
    await expect.poll(() => secret.isVisible()).toBe(true);
    token = (await secret.textContent()) ?? "";
    expect(token).toMatch(/^ircnow_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}$/);
    const panel = card.getByTestId("new-app-password");
    expect(await panel.textContent()).toContain("You won’t see it again");
    // In a live region, and focus on its heading so keyboard users land on it.
    expect(await panel.evaluate((el) => el.parentElement?.getAttribute("aria-live"))).toBe(
      "polite",
    );
    await expect
      .poll(() => focused(page))
      .toMatchObject({ tag: "h4", text: "App password for “e2e laptop”" });
    // The client setups now carry it; each logs in with SASL PLAIN.
    await card.getByText("WeeChat", { exact: true }).click();
    const weechat = await card.locator("details[open] pre").textContent();
    expect(weechat).toContain(`sasl_password ${token}`);
    expect(weechat).toContain("sasl_mechanism plain");
    await shot(page, "app-password-created");
    expect(await axeViolations(page)).toEqual([]);
  });

  it("a raw IRC client logs in to alice's soju with PASS and with SASL PLAIN, and sees irc.now logged in as alice", async () => {
    const [wrong, refused] = await passLogin(
      token.slice(0, -1) + (token.endsWith("A") ? "B" : "A"),
    );
    expect(refused).toMatch(/ 464 \* :Invalid credentials$/);
    wrong.close();

    const [pass, welcome] = await passLogin(token);
    expect(welcome).toMatch(/ 001 alice /);
    pass.send("PRIVMSG BouncerServ :sasl status -network irc.now");
    expect(await pass.waitFor(/Authenticated on upstream network/)).toMatch(
      /Authenticated on upstream network with account "alice"/,
    );
    pass.close();

    const [sasl, done] = await saslLogin(token);
    expect(done).toMatch(/ 903 /);
    await sasl.waitFor(/ 001 alice /);
    sasl.send("PRIVMSG BouncerServ :network status");
    expect(await sasl.waitFor(/PRIVMSG alice :irc\.now /)).toMatch(/\[connected\]/);
    sasl.close();
  });

  it("the app passwords page lists it with its last use; revoking it ends the next login", async () => {
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "App passwords" })
      .click();
    await page.waitForURL(`${product.web.url}/app-passwords`);
    const row = page.getByTestId("app-password-row").filter({ hasText: "e2e laptop" });
    // Last use is written after the answer (debounced): it shows up on a reload.
    await expect
      .poll(
        async () => {
          await page.reload();
          return row.textContent();
        },
        { timeout: 15_000 },
      )
      .toContain("127.0.0.1");
    expect(await page.content()).not.toContain(token);
    expect(await axeViolations(page)).toEqual([]);
    await row.getByRole("button", { name: "Revoke “e2e laptop”" }).click();
    const notice = page.getByTestId("app-passwords-notice");
    await expect.poll(() => notice.textContent()).toContain("“e2e laptop” was revoked");
    await expect.poll(() => focused(page)).toMatchObject({ tag: "p" });
    await expect.poll(() => row.count()).toBe(0);
    await shot(page, "app-password-revoked");
    expect(await axeViolations(page)).toEqual([]);

    const [pass, refused] = await passLogin(token);
    expect(refused).toMatch(/ 464 \* :Invalid credentials$/);
    pass.close();
    const [sasl, failed] = await saslLogin(token);
    expect(failed).toMatch(/ 904 /);
    sasl.close();
  });

  it("no log line of the web or the worker carries the app password", () => {
    const secret = token.split("_")[2]!;
    expect(secret).toHaveLength(32);
    expect(product.web.output()).not.toContain(secret);
    expect(product.workerOutput()).not.toContain(secret);
  });
});
