import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { Controller } from "../src/bouncers/controller";
import { LeaderElector } from "../src/leader/lease";
import { createWorkerMetrics } from "../src/metrics/worker-metrics";
import { CR, NS, startHarness, until, type Harness } from "./support/harness";

let h: Harness;
let controller: Controller;
let registry: Registry;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
  registry = new Registry();
  controller = new Controller({
    deps: h.w.deps,
    kubeConfig: h.kubeConfig,
    namespace: NS,
    accountsDb: h.w.db,
    metrics: createWorkerMetrics(registry),
    tenantUrls: h.w.tenantUrls,
    verifyIntervalMs: 1_000,
    usersIntervalMs: 1_000,
    tenantsIntervalMs: 1_000,
    retryBaseMs: 200,
    retryMaxMs: 2_000,
  });
});
afterAll(async () => {
  await controller?.stop();
  await h?.stop();
});

const configured = (name: string) => h.annotations(name)[ANNOTATION_UPSTREAM_CONFIGURED] === "true";
const metric = async (name: string) => (await registry.getSingleMetricAsString(name)) ?? "";

describe("controller: watch → queue → reconcile", () => {
  it("migrates existing Ready bouncers at start-up and sets up new ones", async () => {
    await h.createBouncer("early");
    await until(() => h.readyOf("early") === "True", "early Ready");
    controller.start();
    await until(() => configured("early"), "early configured", 60_000);
    await h.createBouncer("late");
    await until(() => configured("late"), "late configured", 60_000);
    // The annotation comes before soju's login (step 6 verifies it after): wait for ergo to see it.
    await until(() => h.ergo.whoisAccount("late") === "late", "late logged in to ergo", 30_000);
    expect(h.ergo.whoisAccount("late")).toBe("late");
  });

  it("reads a bouncer only when it can need work: not for status writes or its own annotation", async () => {
    const reads: string[] = [];
    const off = h.kube.onRequest(({ method, url }) => {
      const path = url.split("?")[0] ?? "";
      const m = /\/sojubouncers\/([^/]+)$/.exec(path);
      if (method === "GET" && m?.[1]) reads.push(m[1]);
    });
    try {
      // The operator rewriting the status of a configured bouncer.
      for (const message of ["heartbeat 1", "heartbeat 2"])
        h.kube.objects.patch(
          CR,
          NS,
          "early",
          {
            status: {
              conditions: [
                {
                  type: "Ready",
                  status: "True",
                  reason: "Running",
                  message,
                  lastTransitionTime: new Date().toISOString(),
                },
              ],
            },
          },
          { subresource: "status" },
        );
      // A new bouncer: created (not Ready), Ready, annotated. Its events come after the ones above.
      await h.createBouncer("marker");
      await until(() => configured("marker"), "marker configured", 60_000);
      await until(() => controller.queue.size.inFlight === 0, "the queue to settle");
    } finally {
      off();
    }
    // One read: the setup's own, when it turned Ready.
    expect(reads).toEqual(["marker"]);
  });

  it("keeps working when the watch is dropped or expires (410)", async () => {
    await until(() => h.kube.activeWatches > 0, "the watch");
    expect(h.kube.faults.closeWatches()).toBeGreaterThan(0);
    await h.createBouncer("after-drop");
    await until(() => configured("after-drop"), "after-drop configured", 60_000);
    h.kube.faults.expireNextWatches(1);
    h.kube.faults.closeWatches();
    await h.createBouncer("after-expiry");
    await until(() => configured("after-expiry"), "after-expiry configured", 60_000);
    expect(await metric("irc_now_watch_restarts_total")).toMatch(/reason="(closed|expired)"/);
  });

  it("survives an apiserver failing for a while", async () => {
    h.kube.faults.failNextRequests(15);
    await h.createBouncer("after-outage");
    await until(() => configured("after-outage"), "after-outage configured", 90_000);
  });

  it("records upstream states and exports the metrics", async () => {
    await until(
      async () =>
        (await metric("irc_now_bouncers_by_upstream_auth")).includes('state="authenticated"} 6'),
      "verifier metrics",
      30_000,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${await metric("irc_now_bouncers_by_upstream_auth")}`);
    });
    expect(await metric("irc_now_setup_attempts_total")).toContain('outcome="succeeded"');
    expect(await metric("irc_now_setup_duration_seconds")).toMatch(
      /irc_now_setup_duration_seconds_count\{outcome="succeeded"\} [1-9]/,
    );
    await until(
      async () =>
        (await metric("irc_now_bouncer_networks_total")).match(
          /irc_now_bouncer_networks_total [1-9]/,
        ),
      "tenant sweep",
      30_000,
    );
    await until(
      async () =>
        (await metric("irc_now_bouncers_by_setup_state")).includes('state="configured"} 6'),
      "setup-state metrics",
      30_000,
    );
    // No credential reaches a metric (label or value) or a log line.
    const secrets = h.kube.objects
      .list("secrets", NS)
      .items.filter((s) => s.metadata.labels?.["irc.now/ergo-account"])
      .map((s) =>
        Buffer.from(
          (s as unknown as { data: Record<string, string> }).data["password"]!,
          "base64",
        ).toString(),
      );
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const exported = await registry.metrics();
    for (const secret of secrets) {
      expect(exported).not.toContain(secret);
      expect(h.logs.join("")).not.toContain(secret);
    }
  });

  it("a bouncer needing an admin is parked: counted, not retried until its CR changes", async () => {
    await h.ergo.registerAccount("parked", "not-the-portals-password");
    await h.createBouncer("parked");
    await until(
      async () =>
        (await metric("irc_now_bouncers_by_setup_state")).includes('state="needs_admin"} 1'),
      "the needs_admin count",
      30_000,
    );
    const attempts = async () =>
      (await h.w.db.select().from(accounts.bouncerSetupAttempts)).filter(
        (a) => a.bouncer === "parked",
      );
    expect((await attempts()).map((a) => a.outcome)).toEqual(["needs_admin"]);
    // Well past the retry backoff (200 ms … 2 s): still one attempt.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await attempts()).toHaveLength(1);
    // An admin adopts the account and asks for a retry: the watch brings it back at once.
    await h.w.db.insert(accounts.ergoAccounts).values({
      account: "parked",
      ownerUserId: await h.userId("parked"),
      origin: "adopted",
      adoptedBy: "admin",
    });
    await h.w.bouncers.clearConfigured("parked");
    await until(
      async () => (await attempts()).some((a) => a.outcome === "succeeded"),
      "parked to be set up after the adoption",
      30_000,
    );
    expect(configured("parked")).toBe(true);
    expect((await attempts()).map((a) => a.outcome).sort()).toEqual(["needs_admin", "succeeded"]);
  });
});

describe("leader election over a Lease", () => {
  const silent = pino({ level: "silent" });

  function elector(token: string, identity: string, events: string[]) {
    const kc = new KubeConfig();
    kc.loadFromString(h.kube.kubeConfigYaml(token));
    return new LeaderElector({
      coordination: kc.makeApiClient(CoordinationV1Api),
      namespace: NS,
      name: "worker-lease-test",
      identity,
      leaseDurationSeconds: 3,
      retryPeriodMs: 200,
      onStartedLeading: () => void events.push(`${identity}:start`),
      onStoppedLeading: () => void events.push(`${identity}:stop`),
      log: silent,
    });
  }

  it("elects exactly one leader; a standby takes over on release and when the leader dies", async () => {
    const admin = { name: "worker", rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] };
    h.kube.setUser("token-a", admin);
    h.kube.setUser("token-b", admin);
    h.kube.setUser("token-c", admin);
    const events: string[] = [];
    const a = elector("token-a", "a", events);
    const b = elector("token-b", "b", events);
    a.start();
    b.start();
    await until(() => a.isLeader || b.isLeader, "a leader");
    await new Promise((r) => setTimeout(r, 1_000));
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];

    await leader.stop(); // graceful: releases the lease
    await until(() => standby.isLeader, "the standby to take over after release");
    expect(leader.isLeader).toBe(false);

    // Now the new leader "dies": its credentials stop working, it cannot renew.
    const c = elector("token-c", "c", events);
    c.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(c.isLeader).toBe(false);
    h.kube.removeUser(standby === a ? "token-a" : "token-b");
    await until(() => c.isLeader, "c to take over after the lease expired", 15_000);
    await until(() => !standby.isLeader, "the dead leader to step down", 15_000);
    await Promise.all([standby.stop(), c.stop()]);
    expect(events.filter((e) => e.endsWith(":start")).length).toBe(3);
  });
});
