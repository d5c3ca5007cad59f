import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { SojuUnavailable, type SojuAdmin } from "@irc-now/soju";
import { startErgoStandin } from "@irc-now/standins/ergo";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { startHarness, until, type Harness } from "./support/harness";

async function readyBouncer(h: Harness, name: string) {
  await h.createBouncer(name);
  await h.operator.provisioned(name);
  await until(() => h.readyOf(name) === "True", `${name} Ready`);
}

describe("setup under faults", () => {
  let h: Harness;
  beforeAll(async () => {
    // An ergo that is down is noticed in 2 s and re-tried soon (production: 15 s, 250 ms … 30 s).
    h = await startHarness(inject("postgresUrl"), {
      wire: { ergo: { connectTimeoutMs: 2_000, reconnectMaxDelayMs: 1_000 } },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("ergo down during setup: no annotation meanwhile; setup completes once ergo is back", async () => {
    await readyBouncer(h, "erin");
    const { ircPort } = h.ergo;
    const oper = h.ergo.oper;
    await h.ergo.stop();
    const down = await reconcileBouncer(h.w.deps, "erin");
    expect(down.result).toMatchObject({
      outcome: "failed",
      step: "ensure_ergo_account",
      configured: false,
    });
    expect(down.next).toBe("retry");
    expect(h.annotations("erin")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();

    h.ergo = await startErgoStandin({ ircPort, opers: [oper] });
    const back = await until(
      async () => {
        const r = await reconcileBouncer(h.w.deps, "erin");
        return r.result?.outcome === "succeeded" ? r : undefined;
      },
      "setup to succeed after ergo is back",
      60_000,
    );
    expect(back.next).toBe("done");
    expect(h.annotations("erin")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
    expect(h.ergo.whoisAccount("erin")).toBe("erin");
  });

  it("soju admin failing mid-sequence: the retry converges without a duplicate network", async () => {
    await readyBouncer(h, "fred");
    // Fault injection at the port boundary: soju becomes unreachable after the network was
    // created and before the SASL credentials are saved (as when its pod is being replaced).
    const real = h.w.deps.soju;
    let failures = 1;
    const flaky: SojuAdmin = Object.assign(Object.create(real) as SojuAdmin, {
      applyUpstreamNetwork: async (...args: Parameters<SojuAdmin["applyUpstreamNetwork"]>) => {
        if (failures-- > 0) {
          // The network is created (disabled), then soju goes away before the credentials.
          const [bouncer, user, network] = args;
          await real.createOrUpdateNetwork(bouncer, user, { ...network, enabled: false });
          throw new SojuUnavailable("soju admin socket closed");
        }
        return real.applyUpstreamNetwork(...args);
      },
    });
    const deps = { ...h.w.deps, soju: flaky };
    const first = await reconcileBouncer(deps, "fred");
    expect(first.result).toMatchObject({
      outcome: "failed",
      step: "apply_soju_network",
      error: "SojuUnavailable: soju admin socket closed",
    });
    expect(h.annotations("fred")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();

    const second = await reconcileBouncer(deps, "fred");
    expect(second.result).toMatchObject({ outcome: "succeeded" });
    const client = new pg.Client({ connectionString: h.operator.get("fred")!.databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM "Network" WHERE name = 'irc.now'`,
    );
    await client.end();
    expect(rows[0].n).toBe(1);
    expect(h.ergo.whoisAccount("fred")).toBe("fred");
    const attempts = await h.w.db
      .select()
      .from(accounts.bouncerSetupAttempts)
      .where(eq(accounts.bouncerSetupAttempts.bouncer, "fred"));
    expect(attempts.map((a) => a.outcome).sort()).toEqual(["failed", "succeeded"]);
  });
});

describe("wrong oper password", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(inject("postgresUrl"), {
      env: { ERGO_OPER_PASSWORD: "definitely-wrong-oper-pw" },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("needs an admin (parked, not retried), never annotates, and never leaks the password", async () => {
    await readyBouncer(h, "gina");
    const first = await reconcileBouncer(h.w.deps, "gina");
    expect(first.result).toMatchObject({
      outcome: "needs_admin",
      step: "ensure_ergo_account",
      configured: false,
    });
    expect(first.next).toBe("done"); // a configuration error: no retry loop against ergo
    expect(first.result?.outcome === "needs_admin" && first.result.error).toMatch(/oper/i);
    // Run by hand again, it fails fast the same way (no reconnect storm against ergo).
    const second = await reconcileBouncer(h.w.deps, "gina");
    expect(second.result).toMatchObject({ outcome: "needs_admin", step: "ensure_ergo_account" });
    expect(h.annotations("gina")[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    const recorded = await h.w.db
      .select()
      .from(accounts.bouncerSetupAttempts)
      .where(eq(accounts.bouncerSetupAttempts.bouncer, "gina"));
    for (const a of recorded) expect(a.error ?? "").not.toContain("definitely-wrong-oper-pw");
    expect(h.logs.join("")).not.toContain("definitely-wrong-oper-pw");
  });
});
