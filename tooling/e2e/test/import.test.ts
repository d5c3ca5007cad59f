import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BouncerServAdmin, SocketTransport } from "@irc-now/soju";
import {
  defaultIrccloudUsers,
  startIrccloudStandin,
  type IrccloudStandin,
} from "@irc-now/standins/irccloud";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { startProduct, type Product } from "../src/product";
import { screenshotter, signInFromLanding } from "../src/sign-in";

// A user with no bouncer imports 2 of their 3 IRCCloud networks, leaving one channel out; the
// bouncer is created and set up, soju (read over its admin socket) ends with exactly that, and
// importing the same again adds nothing. Neither the IRCCloud password nor its session cookie
// is in any log or anywhere in the accounts DB.
const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = screenshotter(outDir);

// Networks point at a closed local port: soju's connection attempts stay on this machine.
const [seed] = defaultIrccloudUsers({ host: "127.0.0.1", port: 1 });
const EMAIL = seed!.email;
const PASSWORD = seed!.password;

let irccloud: IrccloudStandin;
let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let page: Page;
let soju: BouncerServAdmin;

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  irccloud = await startIrccloudStandin({ users: [seed!] });
  product = await startProduct({ irccloudUrl: irccloud.url });
  soju = new BouncerServAdmin(
    new SocketTransport({ pathTemplate: product.stack.env.SOJU_ADMIN_SOCKET! }),
  );
  ({ browser, close: closeBrowser } = await launchChromium());
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

afterAll(async () => {
  await soju?.close();
  await closeBrowser?.();
  await product?.stop();
  await irccloud?.stop();
});

async function expectAccessible(p: Page) {
  expect(await axeViolations(p)).toEqual([]);
}

async function readPreview() {
  await page.getByLabel("IRCCloud email").fill(EMAIL);
  await page.getByLabel("IRCCloud password").fill(PASSWORD);
  await page.getByRole("button", { name: "Show what would be imported" }).click();
  await page.getByRole("heading", { name: /Choose what to import/ }).waitFor();
}

/** Watches the progress until the summary says it finished; returns every summary shown. */
async function watchProgress(): Promise<{ summaries: Set<string>; states: Set<string> }> {
  const summaries = new Set<string>();
  const states = new Set<string>();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const summary = (await page.getByTestId("import-summary").textContent()) ?? "";
    summaries.add(summary);
    for (const s of await page
      .getByTestId("import-steps")
      .locator("li")
      .evaluateAll((lis) => lis.map((li) => li.getAttribute("data-state") ?? "")))
      states.add(s);
    if (/^Import finished|^The import stopped/.test(summary)) return { summaries, states };
    if (Date.now() > deadline) throw new Error(`import did not finish; last: ${summary}`);
    await page.waitForTimeout(100);
  }
}

const networks = async () => (await soju.networkStatus("alice", "alice")).map((n) => n.name).sort();
const channels = async () =>
  (await soju.userRun("alice", "alice", ["channel", "status"]))
    .map((l) => l.split(" ")[0]!)
    .filter((c) => c.startsWith("#"))
    .sort();

const chosenChannels = [
  "#debian/OFTC",
  "#libera/Libera",
  "#oftc/OFTC",
  "#python/Libera",
  "#tor/OFTC",
];

describe("[USER] import from IRCCloud", () => {
  it("signs in to IRCCloud once and shows the networks and channels, archived ones off", async () => {
    await signInFromLanding(page, product.web.url, "alice", "alice-password");
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Import" })
      .click();
    await page.waitForURL(`${product.web.url}/import`);
    await expect
      .poll(() => page.getByText("are used once, to read your networks and channels").isVisible())
      .toBe(true);
    await expectAccessible(page);

    // A wrong password: IRCCloud's answer in plain words, nothing created.
    await page.getByLabel("IRCCloud email").fill(EMAIL);
    await page.getByLabel("IRCCloud password").fill("not-the-password");
    await page.getByRole("button", { name: "Show what would be imported" }).click();
    await expect
      .poll(() => page.getByTestId("import-error").textContent())
      .toMatch(/IRCCloud did not accept that email and password/);

    await readPreview();
    await shot(page, "import-preview");
    await expectAccessible(page);
    for (const name of ["Libera", "OFTC", "Home"])
      expect(await page.getByLabel(`Import network ${name}`).isChecked()).toBe(true);
    const libera = page.getByTestId("network-Libera");
    expect(await libera.getByText("irc.libera.chat").count()).toBe(0); // pointed at 127.0.0.1
    expect(await libera.getByRole("checkbox", { name: /#oldproject/ }).isChecked()).toBe(false);
    expect(await libera.getByRole("checkbox", { name: /#python/ }).isChecked()).toBe(true);
    await expect.poll(() => page.getByTestId("network-Home").textContent()).toMatch(/has a key/);
  });

  it("imports 2 of 3 networks without one channel, creating the bouncer and showing progress", async () => {
    await page.getByLabel("Import network Home").uncheck();
    await page.getByTestId("network-Libera").getByRole("checkbox", { name: /#rust/ }).uncheck();
    await page.getByRole("button", { name: "Import 2 networks" }).click();
    const { summaries, states } = await watchProgress();
    await shot(page, "import-finished");
    expect([...summaries].some((s) => s.startsWith("Importing…"))).toBe(true);
    expect(states.has("pending")).toBe(true);
    expect(await page.getByTestId("import-summary").textContent()).toBe(
      "Import finished: 9 done, 0 skipped, 0 failed.",
    );
    await expectAccessible(page);
    expect(await page.getByRole("link", { name: "Go to your dashboard" }).isVisible()).toBe(true);

    expect(await networks()).toEqual(["Libera", "OFTC", "irc.now"]);
    expect(await channels()).toEqual(chosenChannels);
    expect((await soju.saslStatus("alice", "alice", "irc.now")).state).toEqual({
      kind: "authenticated",
      account: "alice",
    });
    expect((await soju.saslStatus("alice", "alice", "Libera")).plainUsername).toBe("alice_l");
  });

  it("comes back to where the import is after leaving the page", async () => {
    await page.goto(`${product.web.url}/dashboard`);
    await page.goto(`${product.web.url}/import`);
    await expect
      .poll(() => page.getByTestId("import-summary").textContent())
      .toBe("Import finished: 9 done, 0 skipped, 0 failed.");
  });

  it("importing the same again adds nothing", async () => {
    await page.getByRole("button", { name: "Import again" }).click();
    await readPreview();
    // Already imported: not selected, and said why.
    expect(await page.getByLabel("Import network Libera").isChecked()).toBe(false);
    await expect
      .poll(() => page.getByTestId("network-Libera").textContent())
      .toMatch(/already in your bouncer/);
    await page.getByLabel("Import network Home").uncheck();
    for (const name of ["Libera", "OFTC"]) await page.getByLabel(`Import network ${name}`).check();
    for (const c of chosenChannels) {
      const [channel, network] = c.split("/");
      await page
        .getByTestId(`network-${network}`)
        .getByRole("checkbox", { name: new RegExp(`^${channel}\\b`) })
        .check();
    }
    await page.getByRole("button", { name: "Import 2 networks" }).click();
    await watchProgress();
    expect(await page.getByTestId("import-summary").textContent()).toBe(
      "Import finished: 7 done, 2 skipped, 0 failed.",
    );
    expect(await networks()).toEqual(["Libera", "OFTC", "irc.now"]);
    expect(await channels()).toEqual(chosenChannels);
  });

  it("keeps the IRCCloud password and session out of every log and the whole accounts DB", async () => {
    const secrets = [PASSWORD, ...irccloud.sessions];
    expect(irccloud.sessions.length).toBeGreaterThanOrEqual(2);
    const logs = product.web.output() + product.workerOutput();
    const db = new pg.Client({ connectionString: product.stack.env.DATABASE_URL });
    await db.connect();
    let dump = "";
    try {
      const { rows: tables } = await db.query<{ name: string }>(
        `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name
           FROM information_schema.tables
          WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.name)).toContain("public.import_items");
      for (const { name } of tables) {
        const { rows } = await db.query(`SELECT row_to_json(t)::text AS row FROM ${name} t`);
        dump += rows.map((r: { row: string }) => r.row).join("\n");
      }
    } finally {
      await db.end();
    }
    expect(dump).toContain("Libera"); // the dump has the import's rows
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(dump).not.toContain(secret);
    }
    // The network passwords were erased once applied.
    expect(dump).not.toContain("libera-nickserv-pass");
  });
});
