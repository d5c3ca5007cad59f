import { mkdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { axeViolations } from "../src/axe";
import { launchChromium } from "../src/browser";
import { describedBy, hasFocus } from "../src/page-checks";
import { startProduct, type Product } from "../src/product";
import { screenshotter, signInFromLanding } from "../src/sign-in";

// Issue 13 acceptance: a second user (bob, not alice) creates a bouncer, deletes their account in
// the browser by typing their username, and is signed out at once; then, through the stand-ins'
// own APIs (Kubernetes API, ergo over IRC, Keycloak's admin REST API) and the accounts DB — not
// the UI — their SojuBouncer, ergo account, Keycloak user and DB rows are gone, and alice's
// Keycloak user is still there.

const outDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const shot = screenshotter(outDir);

let product: Product;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let page: Page;
let db: AccountsDb;
let bobSubject: string;
let bobId: string;

/** The SojuBouncers labelled as `ownerId`'s, from the Kubernetes API (stand-in) itself. */
async function crsOwnedBy(ownerId: string): Promise<string[]> {
  const kubeconfig = await readFile(product.stack.env.KUBECONFIG!, "utf8");
  const server = /server:\s*"?([^"\s]+)/.exec(kubeconfig)?.[1];
  const token = /token:\s*"?([^"\s]+)/.exec(kubeconfig)?.[1];
  const res = await fetch(
    `${server}/apis/irc.now/v1alpha1/namespaces/irc-now/sojubouncers?labelSelector=${encodeURIComponent(`irc.now/owner=${ownerId}`)}`,
    { headers: token ? { authorization: `Bearer ${token}` } : {} },
  );
  if (res.status !== 200) throw new Error(`SojuBouncer list answered ${res.status}`);
  const list = (await res.json()) as { items: { metadata: { name: string } }[] };
  return list.items.map((i) => i.metadata.name);
}

/** `NS INFO <account>` as an oper of its own: NickServ's reply lines. */
async function nickServInfo(account: string): Promise<string[]> {
  const env = product.stack.env;
  const url = new URL(env.ERGO_IRC_URL!);
  const socket = connect(Number(url.port || 6667), url.hostname);
  socket.setEncoding("utf8");
  let buffer = "";
  const notices: string[] = [];
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("ergo did not answer NS INFO")), 10_000);
      socket.on("error", reject);
      socket.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\r\n")) >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (line.startsWith("PING")) socket.write(`PONG${line.slice(4)}\r\n`);
          else if (/ 001 /.test(line))
            socket.write(`OPER ${env.ERGO_OPER_NAME} ${env.ERGO_OPER_PASSWORD}\r\n`);
          else if (/ 381 /.test(line)) socket.write(`NS INFO ${account}\r\nPING :done-info\r\n`);
          else if (/^:NickServ!\S+ NOTICE \S+ :/.test(line))
            notices.push(line.replace(/^:NickServ!\S+ NOTICE \S+ :/, ""));
          else if (/ PONG .*done-info/.test(line)) {
            clearTimeout(timer);
            resolve(notices);
          }
        }
      });
      socket.write("NICK e2e-deletion-check\r\nUSER e2e 0 * :e2e\r\n");
    });
  } finally {
    socket.destroy();
  }
}
const ergoHas = async (account: string) =>
  (await nickServInfo(account))[0] === `Account: ${account}`;

/** Keycloak users named `username`, from its admin REST API (the stack's service account). */
async function keycloakUsers(username: string): Promise<{ id: string }[]> {
  const env = product.stack.env;
  const issuer = env.KEYCLOAK_ISSUER!;
  const tokenRes = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${env.KEYCLOAK_ADMIN_CLIENT_ID}:${env.KEYCLOAK_ADMIN_CLIENT_SECRET}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const res = await fetch(
    `${issuer.replace("/realms/", "/admin/realms/")}/users?exact=true&username=${encodeURIComponent(username)}`,
    { headers: { authorization: `Bearer ${access_token}` } },
  );
  return (await res.json()) as { id: string }[];
}

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  product = await startProduct({
    extraUsers: [
      {
        username: "bob",
        password: "bob-password",
        email: "bob@irc-now.test",
        firstName: "Bob",
        lastName: "Builder",
        emailVerified: true,
      },
    ],
  });
  db = createAccountsDb(product.stack.env.DATABASE_URL!);
  ({ browser, close: closeBrowser } = await launchChromium());
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
});

afterAll(async () => {
  await closeBrowser?.();
  await db?.$client.end();
  await product?.stop();
});

describe("[USER] bob deletes his account", () => {
  it("bob signs in and creates a bouncer, which the worker sets up (ergo account, CR)", async () => {
    await signInFromLanding(page, product.web.url, "bob", "bob-password");
    await page.getByLabel("Name", { exact: true }).fill("bob");
    await page.getByRole("button", { name: "Create bouncer" }).click();

    const [row] = await db.select().from(accounts.users).where(eq(accounts.users.username, "bob"));
    bobId = row!.id;
    bobSubject = row!.keycloakSubject;
    await expect.poll(() => crsOwnedBy(bobId), { timeout: 30_000 }).toEqual(["bob"]);
    await expect.poll(() => ergoHas("bob"), { timeout: 60_000, interval: 500 }).toBe(true);
    expect(await keycloakUsers("bob")).toEqual([expect.objectContaining({ id: bobSubject })]);
  });

  it("the profile's danger zone: a dialog that lists what goes and wants his username", async () => {
    await page
      .getByRole("navigation", { name: "Main" })
      .getByRole("link", { name: "Profile" })
      .click();
    await page.waitForURL(`${product.web.url}/profile`);
    const zone = page.getByRole("region", { name: "Delete account" });
    await zone.getByRole("button", { name: "Delete account…" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete your irc.now account?" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain("deletes every bouncer you have");
    const input = dialog.getByLabel("Type your username, bob, to confirm");
    expect(await hasFocus(input)).toBe(true);
    await shot(page, "delete-account-dialog");
    expect(await axeViolations(page)).toEqual([]);

    // the wrong name: an announced error tied to the field, focus kept, nothing deleted
    await input.fill("alice");
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    const error = dialog.getByRole("alert");
    await expect
      .poll(() => error.textContent())
      .toBe("That is not your username. Type “bob” exactly to confirm.");
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    expect(await describedBy(input)).toEqual([
      "That is not your username. Type “bob” exactly to confirm.",
    ]);
    expect(await hasFocus(input)).toBe(true);
    expect(await db.select().from(accounts.accountDeletions)).toEqual([]);
    await shot(page, "delete-account-wrong-name");
    expect(await axeViolations(page)).toEqual([]);

    // Escape closes it and gives focus back to the button that opened it
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await hasFocus(zone.getByRole("button", { name: "Delete account…" }))).toBe(true);
  });

  it("typing 'bob' deletes the account and signs him out at once", async () => {
    const zone = page.getByRole("region", { name: "Delete account" });
    await zone.getByRole("button", { name: "Delete account…" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete your irc.now account?" });
    await dialog.getByLabel("Type your username, bob, to confirm").fill("bob");
    await dialog.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL((url) => url.pathname === "/signed-out", { timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get("state")).toBe("account-deleted");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
      "Your account is being deleted",
    );
    await shot(page, "account-deleted-signed-out");
    expect(await axeViolations(page)).toEqual([]);
    // no session any more: the dashboard sends him to sign in
    await page.goto(`${product.web.url}/dashboard`);
    await page.waitForURL((url) => url.pathname !== "/dashboard");
    expect(new URL(page.url()).pathname).not.toBe("/dashboard");
  });

  it("through the stand-ins' APIs: his SojuBouncer, ergo account, Keycloak user and DB rows are gone; alice's Keycloak user stays", async () => {
    await expect
      .poll(
        async () => {
          const [job] = await db
            .select()
            .from(accounts.accountDeletions)
            .where(eq(accounts.accountDeletions.userId, bobId));
          return job?.step;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe("done");
    expect(await crsOwnedBy(bobId)).toEqual([]);
    expect(await nickServInfo("bob")).toEqual(["That nickname is not registered"]);
    expect(await keycloakUsers("bob")).toEqual([]);
    expect(await db.select().from(accounts.users).where(eq(accounts.users.id, bobId))).toEqual([]);
    expect(
      await db.select().from(accounts.ergoAccounts).where(eq(accounts.ergoAccounts.account, "bob")),
    ).toEqual([]);
    const [job] = await db
      .select()
      .from(accounts.accountDeletions)
      .where(eq(accounts.accountDeletions.userId, bobId));
    expect(job).toMatchObject({ username: null, keycloakSubject: null, lastError: null });
    expect(job!.completedAt).toBeInstanceOf(Date);
    expect(await keycloakUsers("alice")).toHaveLength(1);
  });
});
