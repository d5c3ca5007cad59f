import { and, eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { reconcileBouncer } from "../src/bouncers/reconcile";
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
  h.createBouncer(name, username);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
}

async function attemptsOf(name: string) {
  return h.w.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncer, name))
    .orderBy(accounts.bouncerSetupAttempts.attemptNo);
}

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

async function storedSasl(name: string): Promise<{ user: string; password: string } | undefined> {
  const client = new pg.Client({ connectionString: h.operator.get(name)!.databaseUrl });
  await client.connect();
  const { rows } = await client.query(
    `SELECT sasl_plain_username AS user, sasl_plain_password AS password FROM "Network" WHERE name = 'irc.now'`,
  );
  await client.end();
  return rows[0];
}

describe("upstream setup (against ergo, soju, Kubernetes stand-ins)", () => {
  it("happy path: Ready bouncer → ergo account → soju network with SASL → annotated → logged in", async () => {
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
    expect(h.ergo.whoisAccount("alice")).toBe("alice");
    const sasl = await storedSasl("alice");
    expect(sasl?.user).toBe("alice");
    expect(await h.ergo.checkPassword("alice", sasl!.password)).toBe(true);
    expect(
      (await attemptsOf("alice")).map((a) => [a.attemptNo, a.outcome, a.stepReached, a.error]),
    ).toEqual([[1, "succeeded", "done", null]]);
    expect(await stateOf("alice")).toMatchObject({ state: "authenticated", account: "alice" });
    // The generated password never reaches a log line.
    expect(h.logs.join("")).not.toContain(sasl!.password);
  });

  it("an annotated bouncer is never touched again", async () => {
    const before = (await attemptsOf("alice")).length;
    const { decision } = await reconcileBouncer(h.w.deps, "alice");
    expect(decision).toBe("configured");
    expect((await attemptsOf("alice")).length).toBe(before);
  });

  it("an existing ergo account gets re-passworded; only the new password works", async () => {
    h.ergo.registerAccount("bob", "old-bob-password");
    await readyBouncer("bob");
    const { result } = await reconcileBouncer(h.w.deps, "bob");
    expect(result).toMatchObject({ outcome: "succeeded", ergo: "reset" });
    const sasl = await storedSasl("bob");
    expect(await h.ergo.checkPassword("bob", "old-bob-password")).toBe(false);
    expect(await h.ergo.checkPassword("bob", sasl!.password)).toBe(true);
    expect(h.ergo.whoisAccount("bob")).toBe("bob");
  });

  it("reuses the SASL password soju already stores instead of rotating it", async () => {
    await readyBouncer("carol");
    const soju = h.operator.get("carol")!.soju;
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
      expect((await soju.runSojuctl(["-config", soju.configPath, ...words])).exitCode).toBe(0);
    }
    const { result } = await reconcileBouncer(h.w.deps, "carol");
    expect(result).toMatchObject({ outcome: "succeeded", passwordSource: "reused" });
    expect(await h.ergo.checkPassword("carol", "carol-kept-pw-1")).toBe(true);
    expect((await storedSasl("carol"))?.password).toBe("carol-kept-pw-1");
    // createOrUpdateNetwork took the update path: still one irc.now network.
    const out = await soju.runSojuctl([
      "-config",
      soju.configPath,
      "user",
      "run",
      "carol",
      "network",
      "status",
    ]);
    expect(out.stdout.split("\n").filter((l) => l.startsWith("irc.now "))).toHaveLength(1);
  });

  it("removing the annotation (admin retry) makes the next reconcile run setup again", async () => {
    h.kube.objects.patch(CR, NS, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: null } },
    });
    const { decision, result } = await reconcileBouncer(h.w.deps, "alice");
    expect(decision).toBe("setup");
    expect(result).toMatchObject({ outcome: "succeeded", attemptNo: 2, passwordSource: "reused" });
    expect(h.annotations("alice")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
  });

  it("waits for a soju user that appears late", async () => {
    const late = await startHarness(inject("postgresUrl"), {
      operator: { userDelayMs: 1_500, readyDelayMs: 50 },
    });
    try {
      late.createBouncer("dave");
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
    h.kube.objects.create(CR, {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: { name: "ghost2", namespace: NS },
      spec: { username: "ghost2", plan: "free" },
    });
    await h.operator.provisioned("ghost2");
    h.kube.objects.delete("secrets", NS, "ghost2-db");
    await until(() => h.readyOf("ghost2") === "True", "ghost2 Ready");
    const { result, next } = await reconcileBouncer(h.w.deps, "ghost2");
    expect(result).toMatchObject({ outcome: "failed", step: "read_secret", configured: false });
    expect(next).toBe("retry");
    expect(h.annotations("ghost2")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
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
