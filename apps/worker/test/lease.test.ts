import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import { LeaderElector, type LeaderElectorOptions } from "../src/leader/lease";

// Leader election against the kube stand-in through @kubernetes/client-node. Short timings:
// lease 2 s, renew deadline 1.2 s, retry 0.2 s. Timing assertions are orders and bounds with
// generous margins, except the ones the protocol guarantees strictly (a standby never takes
// over before it watched the lease unchanged for the lease duration).

const NS = "irc-now";
const LEASES = "leases.coordination.k8s.io";
const LEASE_MS = 2_000;
const RENEW_MS = 1_200;
const RETRY_MS = 200;
/** Slack for timers and HTTP on a slow, noisy machine. */
const SLACK_MS = 1_000;

let kube: KubeStandin;
const electors: LeaderElector[] = [];
const silent = pino({ level: "silent" });
const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  kube = await startKubeStandin({ namespaces: [NS] });
});
afterEach(async () => {
  kube.faults.reset();
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  await kube?.stop();
});

interface Probe {
  elector: LeaderElector;
  /** performance.now() of each onStartedLeading / onStoppedLeading call. */
  started: number[];
  stopped: number[];
}

function candidate(
  lease: string,
  identity: string,
  extra: Partial<LeaderElectorOptions> = {},
): Probe {
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
  const probe: Probe = { elector: undefined as unknown as LeaderElector, started: [], stopped: [] };
  probe.elector = new LeaderElector({
    coordination: kc.makeApiClient(CoordinationV1Api),
    namespace: NS,
    name: lease,
    identity,
    leaseDurationSeconds: LEASE_MS / 1000,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    onStartedLeading: () => void probe.started.push(now()),
    onStoppedLeading: () => void probe.stopped.push(now()),
    log: silent,
    ...extra,
  });
  electors.push(probe.elector);
  return probe;
}

function stored(lease: string) {
  const obj = kube.objects.find(LEASES, NS, lease) as
    | {
        metadata: { resourceVersion?: string };
        spec?: { holderIdentity?: string; renewTime?: string; leaseTransitions?: number };
      }
    | undefined;
  return obj;
}
const storedHolder = (lease: string) => stored(lease)?.spec?.holderIdentity || null;

async function until<T>(probe: () => T | undefined | false, what: string, ms = 15_000) {
  const deadline = now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Samples `check` every 20 ms for `ms`, failing on the first false. */
async function always(check: () => boolean, what: string, ms: number) {
  const end = now() + ms;
  while (now() < end) {
    expect(check(), what).toBe(true);
    await sleep(20);
  }
}

describe("LeaderElector options", () => {
  it("refuses timings where the leader could outlive its lease", () => {
    const base = { leaseDurationSeconds: 2, renewDeadlineMs: 1_200, retryPeriodMs: 200 };
    expect(() => candidate("opts", "x", { ...base, renewDeadlineMs: 2_000 })).toThrow(
      /renewDeadlineMs/,
    );
    expect(() => candidate("opts", "x", { ...base, retryPeriodMs: 1_200 })).toThrow(
      /retryPeriodMs/,
    );
    expect(() => candidate("opts", "x", { ...base, leaseDurationSeconds: 1.5 })).toThrow(
      /whole number/,
    );
    const defaults = candidate("opts", "x", {
      leaseDurationSeconds: undefined,
      renewDeadlineMs: undefined,
      retryPeriodMs: undefined,
    }).elector;
    expect(defaults).toMatchObject({
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      requestTimeoutMs: 5_000,
    });
  });
});

describe("leader election over a Lease (kube stand-in)", () => {
  it("elects exactly one leader among three candidates racing for a new lease", async () => {
    const all = ["a", "b", "c"].map((id) => candidate("race", id));
    for (const p of all) p.elector.start();
    await until(() => all.some((p) => p.elector.isLeader), "a leader");
    await always(
      () => all.filter((p) => p.elector.isLeader).length <= 1,
      "never two leaders",
      1_500,
    );
    const leader = await until(() => all.find((p) => p.elector.isLeader), "a leader");
    expect(storedHolder("race")).toBe(leader.elector.holder);
    await until(
      () => all.every((p) => p.elector.holder === leader.elector.holder),
      "every candidate to observe the leader",
    );
    expect(all.filter((p) => p !== leader).map((p) => p.elector.state)).toEqual([
      "standby",
      "standby",
    ]);
    expect(leader.started.length).toBeGreaterThanOrEqual(1);
  });

  it("a leader whose renewals hang steps down within the renew deadline; a standby takes over only after the lease duration", async () => {
    let endDrain!: () => void;
    const draining = new Promise<void>((r) => (endDrain = r));
    const a = candidate("hang", "a", {
      // The drain outlasts the test's hang: a stepped-down leader must not re-acquire meanwhile.
      onStoppedLeading: async () => {
        a.stopped.push(now());
        await draining;
      },
    });
    a.elector.start();
    await until(() => a.elector.isLeader, "a to lead");
    const b = candidate("hang", "b");
    b.elector.start();
    await until(() => b.elector.holder === "a", "b to observe a");
    await sleep(3 * RETRY_MS);

    const hang = kube.faults.hangRequests();
    const hungAt = now();
    // The stored renewTime is the start of a's last successful renewal (a's clock is real).
    const lastRenewal = Date.parse(stored("hang")!.spec!.renewTime!);
    const lastRenewalMono = hungAt - (Date.now() - lastRenewal);
    expect(hungAt - lastRenewalMono).toBeLessThan(RETRY_MS + SLACK_MS);

    await until(() => !a.elector.isLeader, "a to step down", RENEW_MS + 3 * SLACK_MS);
    const steppedDown = a.stopped[0]!;
    expect(steppedDown - lastRenewalMono).toBeLessThan(RENEW_MS + SLACK_MS);
    expect(a.elector.state).toBe("draining");
    expect(b.elector.isLeader).toBe(false);

    hang.release();
    await until(() => b.elector.isLeader, "b to take over", 4 * LEASE_MS);
    const tookOver = b.started[0]!;
    // b cannot have seen a's last renewal before it started: the protocol's strict bound.
    expect(tookOver - lastRenewalMono).toBeGreaterThanOrEqual(LEASE_MS - 50);
    expect(tookOver).toBeGreaterThan(steppedDown);
    expect(storedHolder("hang")).toBe("b");
    expect(stored("hang")!.spec!.leaseTransitions).toBe(1);
    // Still draining: a has not campaigned, let alone re-acquired.
    expect(a.elector.isLeader).toBe(false);
    expect(a.started).toHaveLength(1);
    endDrain();
    await until(() => a.elector.state === "standby", "a's drain to end");
  });

  it("every call has a deadline: stop() completes while the apiserver hangs", async () => {
    const a = candidate("hung-stop", "a");
    a.elector.start();
    await until(() => a.elector.isLeader, "a to lead");
    kube.faults.hangRequests();
    const t0 = now();
    await a.elector.stop();
    expect(now() - t0).toBeLessThan(RENEW_MS + 3 * SLACK_MS);
    expect(a.stopped).toHaveLength(1);
    expect(a.elector.state).toBe("stopped");
  });

  it("a standby whose clock is an hour ahead does not take over a lease being renewed", async () => {
    const a = candidate("skew", "a");
    a.elector.start();
    await until(() => a.elector.isLeader, "a to lead");
    const b = candidate("skew", "b", { now: () => new Date(Date.now() + 3_600_000) });
    b.elector.start();
    await until(() => b.elector.holder === "a", "b to observe a");
    await always(
      () => a.elector.isLeader && !b.elector.isLeader,
      "a leads, b waits",
      Math.round(1.5 * LEASE_MS),
    );
    expect(b.started).toHaveLength(0);
    expect(storedHolder("skew")).toBe("a");
    // Its skew is harmless the other way round too: after a's release b leads and writes its
    // own (skewed) timestamps, which a, now a standby, does not judge by.
    await a.elector.stop();
    await until(() => b.elector.isLeader, "b to take over after release", LEASE_MS);
    expect(Date.parse(stored("skew")!.spec!.renewTime!)).toBeGreaterThan(Date.now() + 3_000_000);
  });

  it("stop() steps down, drains (keeping the lease held), then releases it so a standby takes over at once", async () => {
    const drainMs = LEASE_MS + 500; // longer than the lease: only renewals keep b out
    const seen: string[] = [];
    let bLedDuringDrain = false;
    const a = candidate("stop", "a", {
      onStoppedLeading: async () => {
        seen.push(`drain-start:${storedHolder("stop")}:${a.elector.isLeader}`);
        const end = now() + drainMs;
        while (now() < end) {
          bLedDuringDrain ||= b.elector.isLeader;
          await sleep(20);
        }
        seen.push(`drain-end:${storedHolder("stop")}`);
      },
    });
    a.elector.start();
    await until(() => a.elector.isLeader, "a to lead");
    const b = candidate("stop", "b");
    b.elector.start();
    await until(() => b.elector.holder === "a", "b to observe a");

    await a.elector.stop();
    const stopped = now();
    seen.push(`stopped:${storedHolder("stop") ?? "none"}`);
    await until(() => b.elector.isLeader, "b to take over after release", LEASE_MS);
    const tookOver = b.started[0]!;

    expect(seen).toEqual(["drain-start:a:false", "drain-end:a", "stopped:none"]);
    expect(bLedDuringDrain).toBe(false);
    // Without the release b would wait a whole lease duration after a's last renewal.
    expect(tookOver - stopped).toBeLessThan(LEASE_MS - 200);
    expect(storedHolder("stop")).toBe("b");
    expect(a.elector.state).toBe("stopped");
    expect(() => a.elector.start()).toThrow(/restarted/);
  });

  it("takes over a lease whose holder died only after a lease duration of local observation, whatever its timestamps say", async () => {
    // Two dead holders: one whose clock ran an hour ahead (renewTime in the future: judging by
    // it, nobody would ever take over) and one an hour behind (judging by it, a standby would
    // take over at once).
    const seed = (name: string, offsetMs: number) => {
      const t = new Date(Date.now() + offsetMs).toISOString();
      kube.objects.create(LEASES, {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name, namespace: NS },
        spec: {
          holderIdentity: "dead",
          leaseDurationSeconds: LEASE_MS / 1000,
          acquireTime: t,
          renewTime: t,
          leaseTransitions: 4,
        },
      });
    };
    seed("dead-ahead", 3_600_000);
    seed("dead-behind", -3_600_000);
    const ahead = candidate("dead-ahead", "c");
    const behind = candidate("dead-behind", "c");
    const t0 = now();
    ahead.elector.start();
    behind.elector.start();
    await until(() => ahead.elector.isLeader && behind.elector.isLeader, "both takeovers", 10_000);
    for (const p of [ahead, behind]) {
      expect(p.started[0]! - t0).toBeGreaterThanOrEqual(LEASE_MS);
      expect(p.started[0]! - t0).toBeLessThan(LEASE_MS + 3 * SLACK_MS);
    }
    expect(stored("dead-ahead")!.spec).toMatchObject({ holderIdentity: "c", leaseTransitions: 5 });
    expect(stored("dead-behind")!.spec).toMatchObject({ holderIdentity: "c", leaseTransitions: 5 });
  });
});
