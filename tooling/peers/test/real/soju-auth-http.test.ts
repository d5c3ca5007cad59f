import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import {
  AppPasswordHasher,
  appPasswordKey,
  createAppPassword,
  revokeAppPassword,
} from "../../../../apps/web/src/server/domain/app-passwords";
import { IrcLineClient, type IrcLine } from "../../src/irc";
import { startSoju, type RealSoju } from "../../src/soju";
import { startWebProduction, type WebProduction } from "../../src/web";

/**
 * Issue 12: the web's real `POST /api/soju/auth/{bouncer}` (production build, `next start`)
 * answering the REAL soju 0.10.1 started with `auth http`. An app password made by the web's own
 * domain function logs in over PASS and SASL PLAIN; once revoked, both are refused.
 */

const peers = inject("peers");
const NAMESPACE = "irc-now";
const BOUNCER = "dana-phone";
const USERNAME = "dana";

let db: AccountsDb | undefined;
let web: WebProduction | undefined;
let soju: RealSoju | undefined;
let userId = "";

/** A fresh connection that logs in with `PASS`; resolves to the first decisive reply. */
async function passLogin(token: string): Promise<IrcLine> {
  const irc = await IrcLineClient.connect(soju!.host, soju!.port);
  try {
    irc.send(`PASS ${token}`);
    irc.send(`NICK ${USERNAME}`);
    irc.send(`USER ${USERNAME} 0 * :${USERNAME}`);
    return await irc.waitFor((l) => ["001", "464", "ERROR"].includes(l.command), "001 or 464");
  } finally {
    await irc.close();
  }
}

/** A fresh connection that logs in with SASL PLAIN; the SASL reply and what followed it. */
async function saslLogin(token: string): Promise<{ sasl: IrcLine; after: IrcLine | null }> {
  const irc = await IrcLineClient.connect(soju!.host, soju!.port);
  try {
    irc.send("CAP LS 302");
    irc.send(`NICK ${USERNAME}`);
    irc.send(`USER ${USERNAME} 0 * :${USERNAME}`);
    irc.send("CAP REQ :sasl");
    await irc.waitFor((l) => l.command === "CAP" && l.params[1] === "ACK", "CAP ACK sasl");
    irc.send("AUTHENTICATE PLAIN");
    await irc.waitFor((l) => l.command === "AUTHENTICATE", "AUTHENTICATE +");
    irc.send(`AUTHENTICATE ${Buffer.from(`\0${USERNAME}\0${token}`).toString("base64")}`);
    const sasl = await irc.waitFor((l) => ["903", "904"].includes(l.command), "903 or 904");
    if (sasl.command !== "903") return { sasl, after: null };
    irc.send("CAP END");
    const after = await irc.waitFor((l) => ["001", "ERROR"].includes(l.command), "001");
    return { sasl, after };
  } finally {
    await irc.close();
  }
}

describe.skipIf(!peers)("soju auth http: real soju 0.10.1 against the web's endpoint", () => {
  let token = "";
  let passwordId = "";

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase(peers!.postgresUrl!, "accounts");
    await migrateAccounts(databaseUrl);
    // The key the web derives from APP_PASSWORD_PEPPER, given to both sides.
    const pepper = randomBytes(32).toString("base64url");
    db = createAccountsDb(databaseUrl, { max: 2 });

    const [user] = await db.$client
      .query<{ id: string }>(
        `INSERT INTO users (keycloak_subject, username) VALUES ('kc-dana', $1) RETURNING id`,
        [USERNAME],
      )
      .then((r) => r.rows);
    userId = user!.id;
    // The SojuBouncers projection row the operator would have written.
    await db.$client.query(
      `INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username)
       VALUES ($1, $2, 'uid-dana-phone', $3, $4)`,
      [NAMESPACE, BOUNCER, userId, USERNAME],
    );
    const hasher = new AppPasswordHasher(
      appPasswordKey({ APP_PASSWORD_PEPPER: pepper, AUTH_SECRET: "unused-when-pepper-is-set" }),
    );
    const created = await createAppPassword(
      // bouncer: null (all of the user's bouncers), so the Kubernetes port is never asked.
      {
        db,
        bouncers: new Proxy({} as Parameters<typeof createAppPassword>[0]["bouncers"], {
          get: () => {
            throw new Error("no Kubernetes call expected for an unscoped app password");
          },
        }),
      },
      hasher,
      { id: userId, username: USERNAME, plan: "free" },
      { label: "phone", expiresInDays: null, bouncer: null },
    );
    token = created.token;
    passwordId = created.password.id;

    web = await startWebProduction(
      {
        DATABASE_URL: databaseUrl,
        K8S_NAMESPACE: NAMESPACE,
        AUTH_URL: "http://127.0.0.1:9",
        AUTH_SECRET: randomBytes(32).toString("base64url"),
        APP_PASSWORD_PEPPER: pepper,
        // Never contacted: nobody signs in to the portal here.
        KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
        KEYCLOAK_CLIENT_ID: "account-portal",
        KEYCLOAK_CLIENT_SECRET: "peers-not-a-secret",
        KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
        KEYCLOAK_ADMIN_CLIENT_SECRET: "peers-not-a-secret",
        STRIPE_SECRET_KEY: "sk_test_peers_not_a_secret",
        STRIPE_WEBHOOK_SECRET: "whsec_peers_not_a_secret",
        STRIPE_PRICE_PRO: "price_peers_pro",
        STRIPE_API_URL: "http://127.0.0.1:9",
        LOG_LEVEL: "warn",
      },
      `/api/soju/auth/${BOUNCER}`,
      { method: "POST" },
    );
    soju = await startSoju({
      postgresUrl: peers!.postgresUrl!,
      authHttp: `${web.url}/api/soju/auth/${BOUNCER}`,
    });
    // soju needs the user in its own DB; its stored password is never used with auth http.
    await soju.bouncerServ("user", "create", "-username", USERNAME, "-disable-password");
  });

  afterAll(async () => {
    await soju?.stop();
    await web?.stop();
    await db?.$client.end();
  });

  it("accepts the app password over PASS (001) and SASL PLAIN (903, then 001)", async () => {
    const pass = await passLogin(token);
    expect(pass.raw, web!.output()).toMatch(/^:\S+ 001 /);
    const { sasl, after } = await saslLogin(token);
    expect(sasl.command).toBe("903");
    expect(after?.command).toBe("001");
  });

  it("refuses a wrong password: 464 over PASS, 904 over SASL", async () => {
    const wrong = token.slice(0, -1) + (token.endsWith("a") ? "b" : "a");
    expect((await passLogin(wrong)).command).toBe("464");
    expect((await saslLogin(wrong)).sasl.command).toBe("904");
  });

  it("refuses the same app password once it is revoked: 464 over PASS, 904 over SASL", async () => {
    await revokeAppPassword(
      { db: db! },
      { id: userId, username: USERNAME, plan: "free" },
      passwordId,
    );
    const pass = await passLogin(token);
    expect(pass.command).toBe("464");
    expect(pass.params.at(-1)).toBe("Invalid credentials");
    const { sasl } = await saslLogin(token);
    expect(sasl.command).toBe("904");
  });
});
