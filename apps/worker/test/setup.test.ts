import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { createLogger } from "../src/logger";
import { wire } from "../src/wiring";
import { verifyBouncer } from "../src/bouncers/verifier";
import { CR, NS, startHarness, until, type Harness } from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
});
afterAll(async () => {
  await h?.stop();
});

async function readyBouncer(name: string, username = name) {
  await h.createBouncer(name, username);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
}

async function attemptsOf(name: string) {
  const uid = (await h.w.bouncers.get(name))?.metadata.uid ?? "";
  return h.w.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncerUid, uid))
    .orderBy(accounts.bouncerSetupAttempts.attemptNo);
}

/** The user's ergo credential as its Secret holds it. */

async function ownerOf(account: string) {
  const [row] = await h.w.db
    .select()
    .from(accounts.ergoAccounts)
    .where(eq(accounts.ergoAccounts.account, account));
  return row;
}

/** What an IRC client of this bouncer's soju would see: its own SASL state. */
async function sojuSasl(name: string, username = name) {
  return (await h.w.deps.soju.saslStatus(name, username, "irc.now")).state;
}

const sojuctl = async (name: string, words: string[]) => {
  const soju = h.operator.get(name)!.soju;
  return soju.runSojuctl(["-config", soju.configPath, ...words]);
};

async function stateOf(name: string) {
  const [row] = await h.w.db
    .select()
    .from(accounts.bouncerUpstreamStates)
    .where(
      and(
        eq(accounts.bouncerUpstreamStates.namespace, NS),
        eq(accounts.bouncerUpstreamStates.bouncer, name),
      ),
    );
  return row;
}

describe("upstream setup (against ergo, soju, Kubernetes stand-ins)", () => {
  it("happy path: Ready bouncer → credential Secret → owned ergo account → soju SASL → annotated → logged in", async () => {
    await readyBouncer("alice");
    const { decision, result, next } = await reconcileBouncer(h.w.deps, "alice");
    expect(decision).toBe("setup");
    expect(result).toMatchObject({
      outcome: "succeeded",
      passwordSource: "generated",
      ergo: "created",
      attemptNo: 1,
    });
    expect(next).toBe("done");
    expect(h.annotations("alice")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
    const password = h.credential("alice");
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const sasl = await h.storedSasl("alice");
    expect(sasl).toEqual({ user: "alice", password });
    expect(await h.ergo.checkPassword("alice", password!)).toBe(true);
    expect(await sojuSasl("alice")).toEqual({ kind: "authenticated", account: "alice" });
    expect(await ownerOf("alice")).toMatchObject({
      ownerUserId: await h.userId("alice"),
      origin: "registered",
    });
    const uid = (await h.w.bouncers.get("alice"))!.metadata.uid;
    expect(
      (await attemptsOf("alice")).map((a) => [
        a.attemptNo,
        a.outcome,
        a.stepReached,
        a.error,
        a.bouncerUid,
        a.runner,
      ]),
    ).toEqual([[1, "succeeded", "done", null, uid, "test-worker"]]);
    expect(await stateOf("alice")).toMatchObject({
      state: "authenticated",
      account: "alice",
      bouncerUid: uid,
    });
    // The generated password never reaches a log line.
    expect(h.logs.join("")).not.toContain(password);
  });

  it("soju refusing a command of the apply step: needs_admin naming that command and soju's words; nothing after it ran", async () => {
    await readyBouncer("capped");
    // soju counts enabled networks against the user's limit: with 0, `network create -enabled
    // false` and `sasl set-plain` pass and the final `network update -enabled true` is refused.
    expect(
      (await sojuctl("capped", ["user", "update", "capped", "-max-networks", "0"])).exitCode,
    ).toBe(0);
    const { result } = await reconcileBouncer(h.w.deps, "capped");
    expect(result).toMatchObject({
      outcome: "needs_admin",
      step: "apply_soju_network",
      configured: false,
    });
    const error = result?.outcome === "needs_admin" ? result.error : "";
    expect(error).toMatch(/soju refused network update: .*maximum number of enabled networks/);
    expect(h.annotations("capped")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    // The credentials were set before the enable was refused; the network stays disabled.
    expect(await h.storedSasl("capped")).toEqual({
      user: "capped",
      password: h.credential("capped"),
    });
    expect(
      (await sojuctl("capped", ["user", "run", "capped", "network", "status"])).stdout,
    ).toMatch(/\[disabled\]/);
    expect(h.logs.join("")).not.toContain(h.credential("capped")!);
  });

  it("an annotated bouncer is never touched again", async () => {
    const before = (await attemptsOf("alice")).length;
    const { decision } = await reconcileBouncer(h.w.deps, "alice");
    expect(decision).toBe("configured");
    expect((await attemptsOf("alice")).length).toBe(before);
  });

  it("an ergo account the portal does not own is never reset: needs_admin, parked; after adoption it is reset", async () => {
    await h.ergo.registerAccount("bob", "old-bob-password");
    await readyBouncer("bob");
    const first = await reconcileBouncer(h.w.deps, "bob");
    expect(first.result).toMatchObject({
      outcome: "needs_admin",
      step: "ensure_ergo_account",
      configured: false,
    });
    expect(first.next).toBe("done"); // parked: no retry loop
    expect(await h.ergo.checkPassword("bob", "old-bob-password")).toBe(true);
    expect(h.annotations("bob")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    expect((await attemptsOf("bob")).map((a) => a.outcome)).toEqual(["needs_admin"]);
    expect((await attemptsOf("bob"))[0]!.error).toMatch(/exists and the portal does not own it/);
    expect(await ownerOf("bob")).toBeUndefined();

    // An admin adopts it (what the web's Adopt action records), then the retry resets it.
    await h.w.db.insert(accounts.ergoAccounts).values({
      account: "bob",
      ownerUserId: await h.userId("bob"),
      origin: "adopted",
      adoptedBy: "admin",
    });
    const second = await reconcileBouncer(h.w.deps, "bob");
    expect(second.result).toMatchObject({ outcome: "succeeded", ergo: "reset", attemptNo: 2 });
    expect(await h.ergo.checkPassword("bob", "old-bob-password")).toBe(false);
    expect(await h.ergo.checkPassword("bob", h.credential("bob")!)).toBe(true);
    expect(await sojuSasl("bob")).toEqual({ kind: "authenticated", account: "bob" });
  });

  it("an ergo account owned by another portal user is never reset", async () => {
    await h.ergo.registerAccount("olga", "olga-own-password");
    await h.w.db.insert(accounts.ergoAccounts).values({
      account: "olga",
      ownerUserId: await h.userId("someone-else"),
      origin: "registered",
    });
    await readyBouncer("olga");
    const { result } = await reconcileBouncer(h.w.deps, "olga");
    expect(result).toMatchObject({ outcome: "needs_admin", step: "ensure_ergo_account" });
    expect(result).toHaveProperty("error", expect.stringMatching(/owned by another portal user/));
    expect(await h.ergo.checkPassword("olga", "olga-own-password")).toBe(true);
  });

  it.each([
    ["svc", "nickserv"],
    ["guest", "guest-pat"],
    ["opnick", "irc-now-admin"],
  ])(
    "a name ergo can never have (%s: %s) ends needs_admin at once, touching nothing",
    async (name, username) => {
      await readyBouncer(name, username);
      const { result, next } = await reconcileBouncer(h.w.deps, name);
      expect(result).toMatchObject({ outcome: "needs_admin", step: "read_secret" });
      expect(next).toBe("done"); // parked, not retried every few minutes
      expect(h.credential(username)).toBeUndefined();
      expect(h.ergo.accountExists(username)).toBe(false);
    },
  );

  it("migration: without a Secret, adopts the password soju already stores when ergo accepts it", async () => {
    await readyBouncer("carol");
    // A bouncer set up by an earlier worker: ergo account + soju network with its password.
    await h.ergo.registerAccount("carol", "carol-kept-pw-1");
    await h.w.db.insert(accounts.ergoAccounts).values({
      account: "carol",
      ownerUserId: await h.userId("carol"),
      origin: "adopted",
    });
    const addr = h.config.SOJU_UPSTREAM_ADDR;
    for (const words of [
      [
        "user",
        "run",
        "carol",
        "network",
        "create",
        "-addr",
        addr,
        "-name",
        "irc.now",
        "-nick",
        "carol",
        "-enabled",
        "false",
      ],
      [
        "user",
        "run",
        "carol",
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "carol",
        "carol-kept-pw-1",
      ],
    ]) {
      expect((await sojuctl("carol", words)).exitCode).toBe(0);
    }
    const { result } = await reconcileBouncer(h.w.deps, "carol");
    expect(result).toMatchObject({ outcome: "succeeded", passwordSource: "adopted" });
    expect(h.credential("carol")).toBe("carol-kept-pw-1");
    expect(await h.ergo.checkPassword("carol", "carol-kept-pw-1")).toBe(true);
    expect((await h.storedSasl("carol"))?.password).toBe("carol-kept-pw-1");
    // createOrUpdateNetwork took the update path: still one irc.now network.
    const out = await sojuctl("carol", ["user", "run", "carol", "network", "status"]);
    expect(out.stdout.split("\n").filter((l) => l.startsWith("irc.now "))).toHaveLength(1);
  });

  it("a stored password ergo refuses is not adopted: a new one is generated", async () => {
    await readyBouncer("cleo");
    const addr = h.config.SOJU_UPSTREAM_ADDR;
    for (const words of [
      [
        "user",
        "run",
        "cleo",
        "network",
        "create",
        "-addr",
        addr,
        "-name",
        "irc.now",
        "-nick",
        "cleo",
        "-enabled",
        "false",
      ],
      [
        "user",
        "run",
        "cleo",
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "cleo",
        "stale-pw-of-cleo",
      ],
    ]) {
      expect((await sojuctl("cleo", words)).exitCode).toBe(0);
    }
    const { result } = await reconcileBouncer(h.w.deps, "cleo");
    expect(result).toMatchObject({ outcome: "succeeded", passwordSource: "generated" });
    expect(h.credential("cleo")).not.toBe("stale-pw-of-cleo");
    expect((await h.storedSasl("cleo"))?.password).toBe(h.credential("cleo"));
  });

  it("removing the annotation (admin retry) runs setup again with the same credential", async () => {
    const before = h.credential("alice");
    h.kube.objects.patch(CR, NS, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: null } },
    });
    const { decision, result } = await reconcileBouncer(h.w.deps, "alice");
    expect(decision).toBe("setup");
    expect(result).toMatchObject({
      outcome: "succeeded",
      attemptNo: 2,
      passwordSource: "secret",
      ergo: "reset",
    });
    expect(h.credential("alice")).toBe(before);
    expect(h.annotations("alice")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
  });

  it("a later bouncer of the same name starts its own history (attempts keyed by uid)", async () => {
    await readyBouncer("reuse", "ruth");
    expect((await reconcileBouncer(h.w.deps, "reuse")).result).toMatchObject({ attemptNo: 1 });
    h.kube.objects.delete(CR, NS, "reuse");
    // the operator's teardown ends with the tenant secret (its DB and role are gone by then)
    await until(() => !h.kube.objects.find("secrets", NS, "reuse-db"), "reuse torn down");
    await readyBouncer("reuse", "ruth");
    const { result } = await reconcileBouncer(h.w.deps, "reuse");
    expect(result).toMatchObject({ outcome: "succeeded", attemptNo: 1, passwordSource: "secret" });
    expect(await attemptsOf("reuse")).toHaveLength(1);
  });

  it("waits for a soju user that appears late", async () => {
    const late = await startHarness(inject("postgresUrl"), {
      operator: { userDelayMs: 1_500, readyDelayMs: 50 },
    });
    try {
      await late.createBouncer("dave");
      await until(() => late.readyOf("dave") === "True", "dave Ready");
      const { result } = await reconcileBouncer(late.w.deps, "dave");
      expect(result).toMatchObject({ outcome: "succeeded" });
      expect(late.ergo.whoisAccount("dave")).toBe("dave");
    } finally {
      await late.stop();
    }
  });

  it("without its tenant DB secret: fails at read_secret, no annotation, retry requested", async () => {
    // A Ready bouncer whose `{name}-db` secret is gone.
    await h.createBouncer("ghost2");
    await h.operator.provisioned("ghost2");
    h.kube.objects.delete("secrets", NS, "ghost2-db");
    await until(() => h.readyOf("ghost2") === "True", "ghost2 Ready");
    const { result, next } = await reconcileBouncer(h.w.deps, "ghost2");
    expect(result).toMatchObject({ outcome: "failed", step: "read_secret", configured: false });
    expect(next).toBe("retry");
    expect(h.annotations("ghost2")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
  });

  it("a bouncer whose owner label is not a portal user id needs an admin, not endless retries", async () => {
    h.kube.objects.create(CR, {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: { name: "stray", namespace: NS, labels: { "irc.now/owner": "u-stray" } },
      spec: { username: "stray", plan: "free" },
    });
    await h.operator.provisioned("stray");
    await until(() => h.readyOf("stray") === "True", "stray Ready");
    const { result, next } = await reconcileBouncer(h.w.deps, "stray");
    expect(result).toMatchObject({ outcome: "needs_admin", step: "read_secret" });
    expect(result).toHaveProperty("error", expect.stringMatching(/not a portal user id/));
    expect(next).toBe("done");
  });

  it("a bouncer without an owner label needs an admin (no one to own its ergo account)", async () => {
    h.kube.objects.create(CR, {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: { name: "orphan", namespace: NS },
      spec: { username: "orphan", plan: "free" },
    });
    await h.operator.provisioned("orphan");
    await until(() => h.readyOf("orphan") === "True", "orphan Ready");
    const { result, next } = await reconcileBouncer(h.w.deps, "orphan");
    expect(result).toMatchObject({ outcome: "needs_admin", step: "read_secret" });
    expect(next).toBe("done");
    expect(h.ergo.accountExists("orphan")).toBe(false);
  });

  it("with SOJU_ADMIN=sql-restart (soju's live SASL state unreadable): authenticated per ergo's WHOIS, said so", async () => {
    // Its log (pod restarts, or none found) goes into a failure's message.
    const sqlLogs: string[] = [];
    const sink = { write: (line: string) => void sqlLogs.push(line) };
    const log = createLogger("info", "sql", sink);
    const sql = wire({ ...h.config, SOJU_ADMIN: "sql-restart" }, log, {
      identity: "sql-restart-worker",
    });
    sql.deps.settings = h.w.deps.settings;
    try {
      await readyBouncer("sqlr");
      const { result } = await reconcileBouncer(sql.deps, "sqlr");
      // The whole result (step, error) in the message: a failure here must say where it failed.
      expect(result, `${JSON.stringify(result)}\n${sqlLogs.join("")}`).toMatchObject({
        outcome: "succeeded",
      });
      expect(await stateOf("sqlr")).toMatchObject({
        state: "authenticated",
        account: "sqlr",
        detail: expect.stringMatching(/per ergo's WHOIS only/),
      });
    } finally {
      await sql.close();
    }
  });

  it("verifier: authenticated, then unauthenticated after ergo's password changes (read-only)", async () => {
    const bouncer = (await h.w.bouncers.get("bob"))!;
    expect(await verifyBouncer({ ...h.w.deps, network: "irc.now" }, bouncer)).toMatchObject({
      state: "authenticated",
      account: "bob",
    });
    // Someone changes bob's ergo password; soju reconnects with the old one and fails SASL.
    const res = await fetch(`${h.ergo.apiUrl}/v1/ns/passwd`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.ergo.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ accountName: "bob", passphrase: "changed-elsewhere-1" }),
    });
    expect(await res.json()).toMatchObject({ success: true });
    expect(h.ergo.disconnect("bob")).toBe(true);
    const verdict = await until(async () => {
      const v = await verifyBouncer({ ...h.w.deps, network: "irc.now" }, bouncer);
      return v.state !== "authenticated" ? v : undefined;
    }, "bob to lose his login");
    expect(["unauthenticated", "disconnected"]).toContain(verdict.state);
    expect(await stateOf("bob")).toMatchObject({ state: verdict.state });
    expect(h.annotations("bob")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
  });
});
