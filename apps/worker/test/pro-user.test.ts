import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { verifyBouncer } from "../src/bouncers/verifier";
import { CR, NS, startHarness, until, type Harness } from "./support/harness";

/**
 * A pro user's bouncers share one soju username and so one ergo account (issue 10, item 1):
 * they must share one credential, and each must be verified by its own soju.
 */
let h: Harness;
const names = ["pam-home", "pam-work", "pam-phone"];

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
  for (const name of names) await h.createBouncer(name, "pam");
  for (const name of names) await h.operator.provisioned(name);
  await until(() => names.every((n) => h.readyOf(n) === "True"), "pam's bouncers Ready");
});
afterAll(async () => {
  await h?.stop();
});

/** Every bouncer's own soju reports the irc.now login (what its IRC client would see). */
async function everyOneAuthenticated() {
  return Promise.all(
    names.map(async (n) => (await h.w.deps.soju.saslStatus(n, "pam", "irc.now")).state),
  );
}

/** Makes soju reconnect to ergo (as after a network blip), so a stale password would show. */
function reconnectAll() {
  // ergo may attach several logins of one account to one client (multiclient): count sessions
  const pams = h.ergo.clients().filter((c) => c.account === "pam");
  expect(pams.reduce((n, c) => n + c.sessions, 0)).toBe(names.length);
  for (const c of pams) expect(h.ergo.disconnect(c.nick)).toBe(true);
}

describe("a pro user with three bouncers", () => {
  it("all three end authenticated, each per its own soju, with one credential", async () => {
    for (const name of names) {
      const { result } = await reconcileBouncer(h.w.deps, name);
      expect(result).toMatchObject({ outcome: "succeeded" });
    }
    const password = h.credential("pam")!;
    for (const name of names) expect((await h.storedSasl(name))?.password).toBe(password);
    reconnectAll();
    expect(
      await until(async () => {
        const states = await everyOneAuthenticated();
        return states.every((s) => s.kind === "authenticated") ? states : undefined;
      }, "all three logged in again after a reconnect"),
    ).toEqual(names.map(() => ({ kind: "authenticated", account: "pam" })));
    for (const name of names) {
      const v = await verifyBouncer(
        { ...h.w.deps, network: "irc.now" },
        (await h.w.bouncers.get(name))!,
      );
      expect(v).toMatchObject({ state: "authenticated", account: "pam" });
    }
  });

  it("an admin retry on one leaves all three authenticated", async () => {
    const before = h.credential("pam")!;
    h.kube.objects.patch(CR, NS, "pam-work", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: null } },
    });
    const { result } = await reconcileBouncer(h.w.deps, "pam-work");
    expect(result).toMatchObject({ outcome: "succeeded", passwordSource: "secret", ergo: "reset" });
    expect(h.credential("pam")!).toBe(before);
    reconnectAll();
    await until(async () => {
      const states = await everyOneAuthenticated();
      return states.every((s) => s.kind === "authenticated");
    }, "all three logged in after the retry and a reconnect");
  });

  it("the password lives only in the Secret, soju's DBs and ergo: no log, DB row, CR or metric", async () => {
    const password = h.credential("pam")!;
    expect(h.logs.join("")).not.toContain(password);
    // every text column of every accounts-DB table
    const client = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      for (const { t } of tables) {
        const { rows } = await client.query(`SELECT * FROM "${t}"`);
        expect(JSON.stringify(rows)).not.toContain(password);
      }
    } finally {
      await client.end();
    }
    for (const name of names)
      expect(JSON.stringify(h.kube.objects.find(CR, NS, name))).not.toContain(password);
  });
});
