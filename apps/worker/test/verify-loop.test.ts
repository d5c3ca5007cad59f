/**
 * The verifier's schedule on a virtual clock (no real timers): checks spread over the interval
 * by a stable per-bouncer offset, bounded concurrency, a deadline per check, and the loop's own
 * duration/lag figures. The ports are fakes at their boundary: the list and the check.
 */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ANNOTATION_UPSTREAM_CONFIGURED, type SojuBouncer } from "@irc-now/k8s";
import {
  runVerifyWindow,
  slotIn,
  slotOffsetMs,
  startVerifyLoop,
  type VerifyLoopPorts,
  type WindowReport,
} from "../src/bouncers/verify-loop";
import type { Verdict } from "../src/bouncers/verifier";
import { verifyLoopMetrics } from "../src/metrics/loop-metrics";
import { createWorkerMetrics } from "../src/metrics/worker-metrics";
import { VirtualClock } from "./support/virtual-clock";

const MINUTE = 60_000;
/** Not a multiple of the interval: a leader that starts at any moment. */
const T0 = 1_764_000_000_123;

function bouncer(i: number, configured = true): SojuBouncer {
  return {
    apiVersion: "irc.now/v1alpha1",
    kind: "SojuBouncer",
    metadata: {
      name: `b${i}`,
      namespace: "irc-now",
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      annotations: configured ? { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } : {},
    },
    spec: { username: `u${i}`, plan: "free" },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  } as unknown as SojuBouncer;
}

interface World {
  clock: VirtualClock;
  ports: VerifyLoopPorts;
  starts: Map<string, number[]>;
  maxInFlight: number;
  timedOut: Map<string, string>;
  windows: WindowReport[];
}

/** Fake ports: each check takes `checkMs` of virtual time (or never ends for `hang`). */
function world(
  bouncers: SojuBouncer[],
  options: { checkMs?: number; hang?: Set<string> } = {},
): World {
  const clock = new VirtualClock(T0);
  const w: World = {
    clock,
    starts: new Map(),
    maxInFlight: 0,
    timedOut: new Map(),
    windows: [],
    ports: undefined as unknown as VerifyLoopPorts,
  };
  let inFlight = 0;
  w.ports = {
    list: async () => bouncers,
    async check(b, signal): Promise<Verdict> {
      const name = b.metadata.name;
      w.starts.set(name, [...(w.starts.get(name) ?? []), clock.now()]);
      inFlight += 1;
      w.maxInFlight = Math.max(w.maxInFlight, inFlight);
      try {
        if (options.hang?.has(name)) await new Promise(() => undefined);
        await clock.sleep(options.checkMs ?? 20);
        expect(signal.aborted).toBe(false);
        return { state: "authenticated", account: b.spec.username, detail: null };
      } finally {
        inFlight -= 1;
      }
    },
    async timedOut(b, detail) {
      w.timedOut.set(b.metadata.name, detail);
    },
    clock,
    metrics: {
      check: () => undefined,
      window: (r) => w.windows.push(r),
    },
  };
  return w;
}

describe("verify schedule", () => {
  it("a bouncer's offset is stable and within the interval; slots keep its phase in every window", () => {
    const key = "7f1c2a9e-1111-4000-8000-000000000001";
    const offset = slotOffsetMs(key, 5 * MINUTE);
    expect(slotOffsetMs(key, 5 * MINUTE)).toBe(offset);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(5 * MINUTE);
    const first = slotIn(T0, offset, 5 * MINUTE);
    expect(first).toBeGreaterThanOrEqual(T0);
    expect(first).toBeLessThan(T0 + 5 * MINUTE);
    expect(first % (5 * MINUTE)).toBe(offset);
    expect(slotIn(T0 + 5 * MINUTE, offset, 5 * MINUTE)).toBe(first + 5 * MINUTE);
  });

  it("spreads 1,000 checks over the interval (no burst at start) and keeps each bouncer's slot from window to window", async () => {
    const all = Array.from({ length: 1000 }, (_, i) => bouncer(i));
    const w = world(all);
    const loop = startVerifyLoop(w.ports, { intervalMs: MINUTE, concurrency: 8 }, (e) => {
      throw e;
    });
    await w.clock.advanceTo(T0 + 2 * MINUTE + 1_000);
    await loop.stop();

    const firsts = all.map((b) => w.starts.get(b.metadata.name)![0]!);
    for (const t of firsts) {
      expect(t).toBeGreaterThanOrEqual(T0);
      expect(t).toBeLessThan(T0 + MINUTE);
    }
    // Even spread: every tenth of the interval holds about a tenth of the checks…
    const tenths = Array.from({ length: 10 }, () => 0);
    for (const t of firsts) tenths[Math.floor(((t - T0) / MINUTE) * 10)]! += 1;
    for (const n of tenths) expect(n).toBeGreaterThan(60);
    for (const n of tenths) expect(n).toBeLessThan(140);
    // …and no second holds a herd (1,000 over 60 s is ~17 a second).
    const perSecond = new Map<number, number>();
    for (const t of firsts) {
      const s = Math.floor((t - T0) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThan(45);
    // The next window checks each bouncer exactly one interval later.
    for (const b of all) {
      const [a, next] = w.starts.get(b.metadata.name)!;
      expect(next! - a!).toBe(MINUTE);
    }
    expect(w.windows[0]).toMatchObject({ checked: 1000, timeouts: 0, overrunMs: 0 });
    expect(w.windows[0]!.counts.authenticated).toBe(1000);
    expect(w.windows[0]!.maxLagMs).toBeLessThan(1_000);
  });

  it("only configured, not deleting bouncers are checked", async () => {
    const deleting = bouncer(3);
    deleting.metadata.deletionTimestamp = "2026-11-30T00:00:00Z";
    const w = world([bouncer(1), bouncer(2, false), deleting]);
    const done = runVerifyWindow(w.ports, { intervalMs: MINUTE }, T0);
    await w.clock.advanceTo(T0 + MINUTE);
    expect((await done).checked).toBe(1);
    expect([...w.starts.keys()]).toEqual(["b1"]);
  });

  it("never runs more checks at once than its concurrency; a window that cannot keep up reports its lag and overrun", async () => {
    const all = Array.from({ length: 100 }, (_, i) => bouncer(i));
    const w = world(all, { checkMs: 5_000 });
    const done = runVerifyWindow(w.ports, { intervalMs: MINUTE, concurrency: 4 }, T0);
    await w.clock.advanceTo(T0 + 4 * MINUTE);
    const report = await done;
    expect(w.maxInFlight).toBe(4);
    expect(report.checked).toBe(100);
    // 100 checks × 5 s / 4 at a time = 125 s of work in a 60 s interval.
    expect(report.durationMs).toBeGreaterThanOrEqual(125_000);
    expect(report.overrunMs).toBe(report.durationMs - MINUTE);
    expect(report.maxLagMs).toBeGreaterThan(MINUTE / 2);
  });

  it("a check past its deadline is recorded as timed out, frees its slot, and the others go on", async () => {
    const all = Array.from({ length: 10 }, (_, i) => bouncer(i));
    const w = world(all, { hang: new Set(["b4"]) });
    const done = runVerifyWindow(
      w.ports,
      { intervalMs: MINUTE, concurrency: 1, checkDeadlineMs: 2_000 },
      T0,
    );
    await w.clock.advanceTo(T0 + 2 * MINUTE);
    const report = await done;
    expect(report.timeouts).toBe(1);
    expect(report.counts).toEqual({
      authenticated: 9,
      unauthenticated: 0,
      disconnected: 0,
      unknown: 1,
    });
    expect(w.timedOut).toEqual(new Map([["b4", "verification did not finish within 2000 ms"]]));
    expect(w.starts.size).toBe(10);
  });

  it("stop() starts no new check and waits for the ones in flight", async () => {
    const all = Array.from({ length: 50 }, (_, i) => bouncer(i));
    const w = world(all, { checkMs: 1_000 });
    const loop = startVerifyLoop(w.ports, { intervalMs: MINUTE, concurrency: 2 }, (e) => {
      throw e;
    });
    await w.clock.advanceTo(T0 + MINUTE / 2);
    const seen = w.starts.size;
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(50);
    const stopped = loop.stop();
    await w.clock.advanceTo(T0 + MINUTE / 2 + 1_000);
    await stopped;
    await w.clock.advanceTo(T0 + 3 * MINUTE);
    expect(w.starts.size).toBe(seen);
  });

  it("exports its duration, lag, overrun and timeouts as the worker's metrics", async () => {
    const registry = new Registry();
    const metrics = createWorkerMetrics(registry);
    const w = world(
      Array.from({ length: 20 }, (_, i) => bouncer(i)),
      { checkMs: 10_000, hang: new Set(["b7"]) },
    );
    w.ports.metrics = verifyLoopMetrics(metrics);
    const done = runVerifyWindow(
      w.ports,
      { intervalMs: MINUTE, concurrency: 2, checkDeadlineMs: 15_000 },
      T0,
    );
    await w.clock.advanceTo(T0 + 5 * MINUTE);
    const report = await done;
    const value = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values[0]?.value;
    expect(await value("irc_now_verifier_window_overrun_seconds")).toBe(report.overrunMs / 1000);
    expect(report.overrunMs).toBeGreaterThan(0);
    expect(await value("irc_now_verifier_window_duration_seconds")).toBe(report.durationMs / 1000);
    expect(await value("irc_now_verifier_window_max_lag_seconds")).toBe(report.maxLagMs / 1000);
    expect(await value("irc_now_verifier_timeouts_total")).toBe(1);
    const lag = await registry.getSingleMetric("irc_now_verifier_lag_seconds")!.get();
    expect(
      lag.values.find(
        (v) => (v as { metricName?: string }).metricName === "irc_now_verifier_lag_seconds_count",
      )?.value,
    ).toBe(20);
    const auth = await registry.getSingleMetric("irc_now_bouncers_by_upstream_auth")!.get();
    expect(auth.values.find((v) => v.labels.state === "unknown")?.value).toBe(1);
    expect(auth.values.find((v) => v.labels.state === "authenticated")?.value).toBe(19);
  });
});
