/**
 * The verifier's schedule: every configured bouncer is checked once per VERIFY_INTERVAL_S, at a
 * stable offset of its own within the interval (a hash of its uid), so 10,000 bouncers are
 * spread over the interval instead of all starting together, including right after this replica
 * becomes leader. At most `concurrency` checks run at once; each has a deadline. Plain functions
 * over ports (the list, the check, a clock), so tests drive it on a virtual clock.
 *
 * Slots are phase-aligned to the epoch: a bouncer's check falls at the same point of every
 * interval whichever replica leads and whenever it started, and the first window after a start
 * checks each bouncer at its next slot (no burst at start-up).
 */
import { createHash } from "node:crypto";
import { isConfigured, isDeleting, type SojuBouncer } from "@irc-now/k8s";
import type { UpstreamState } from "./attempts";
import type { Verdict } from "./verifier";

/** Time, injectable: tests run the schedule on a virtual clock. */
export interface LoopClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: LoopClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
    }),
};

export interface VerifyLoopPorts {
  /** Every SojuBouncer (the loop keeps the configured, not deleting ones). */
  list(): Promise<SojuBouncer[]>;
  /**
   * Checks one bouncer and records its state. When `signal` aborts (its deadline passed) the
   * check must not record a late verdict over the timeout's.
   */
  check(bouncer: SojuBouncer, signal: AbortSignal): Promise<Verdict>;
  /** Records the state of a bouncer whose check ran out of time. */
  timedOut(bouncer: SojuBouncer, detail: string): Promise<void>;
  clock: LoopClock;
  metrics?: VerifyLoopMetrics;
  onError?: (bouncer: string, error: unknown) => void;
}

/** What the loop reports about itself (prom-client in production; see worker-metrics.ts). */
export interface VerifyLoopMetrics {
  /** One check: its duration and how late it started relative to its slot. */
  check(durationMs: number, lagMs: number, timedOut: boolean): void;
  /** One window done: its report. */
  window(report: WindowReport): void;
}

export interface VerifyLoopOptions {
  intervalMs: number;
  /** Checks in flight at once (default 8). */
  concurrency?: number;
  /** Per check (default 30 s; a check longer than the interval delays the next ones). */
  checkDeadlineMs?: number;
}

export interface WindowReport {
  windowStart: number;
  checked: number;
  counts: Record<UpstreamState, number>;
  timeouts: number;
  /** How late the latest check started relative to its slot. */
  maxLagMs: number;
  /** Window start → last check ended. */
  durationMs: number;
  /** How far the last check ended past the window's end (0 when within the interval). */
  overrunMs: number;
}

/** A bouncer's stable offset within the interval, in [0, intervalMs). */
export function slotOffsetMs(key: string, intervalMs: number): number {
  const digest = createHash("sha1").update(key).digest();
  // 48 bits are plenty for an even spread; a double holds them exactly.
  return Math.floor((digest.readUIntBE(0, 6) / 2 ** 48) * intervalMs);
}

/** The first time ≥ windowStart whose phase within the interval is the bouncer's offset. */
export function slotIn(windowStart: number, offsetMs: number, intervalMs: number): number {
  const phase = ((windowStart % intervalMs) + intervalMs) % intervalMs;
  return windowStart + ((offsetMs - phase + intervalMs) % intervalMs);
}

const keyOf = (b: SojuBouncer) => b.metadata.uid ?? b.metadata.name;

/**
 * One window [windowStart, windowStart + interval): lists the bouncers, then starts each check
 * at its slot (or as soon as a concurrency slot frees up), each bounded by its deadline.
 * Resolves when every started check has ended; `signal` stops it from starting more.
 */
export async function runVerifyWindow(
  ports: VerifyLoopPorts,
  options: VerifyLoopOptions,
  windowStart: number,
  signal?: AbortSignal,
): Promise<WindowReport> {
  const { clock } = ports;
  const interval = options.intervalMs;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const deadlineMs = options.checkDeadlineMs ?? 30_000;
  const jobs = (await ports.list())
    .filter((b) => isConfigured(b) && !isDeleting(b))
    .map((bouncer) => ({
      bouncer,
      slot: slotIn(windowStart, slotOffsetMs(keyOf(bouncer), interval), interval),
    }))
    .sort((a, b) => a.slot - b.slot);

  const counts: Record<UpstreamState, number> = {
    authenticated: 0,
    unauthenticated: 0,
    disconnected: 0,
    unknown: 0,
  };
  let timeouts = 0;
  let maxLagMs = 0;
  let lastEnd = windowStart;
  let running = 0;
  let freed: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();

  const checkOne = async (bouncer: SojuBouncer, slot: number): Promise<void> => {
    const started = clock.now();
    const lagMs = Math.max(0, started - slot);
    maxLagMs = Math.max(maxLagMs, lagMs);
    const deadline = new AbortController();
    const settled = new AbortController();
    const timer = clock
      .sleep(deadlineMs, settled.signal)
      .then(() => (settled.signal.aborted ? undefined : ("timeout" as const)));
    let state: UpstreamState = "unknown";
    let timedOut = false;
    try {
      const outcome = await Promise.race([ports.check(bouncer, deadline.signal), timer]);
      if (outcome === "timeout" || outcome === undefined) {
        timedOut = true;
        deadline.abort();
        await ports.timedOut(bouncer, `verification did not finish within ${deadlineMs} ms`);
      } else {
        state = outcome.state;
      }
    } catch (error) {
      ports.onError?.(bouncer.metadata.name, error);
    } finally {
      settled.abort();
    }
    counts[state] += 1;
    if (timedOut) timeouts += 1;
    const ended = clock.now();
    lastEnd = Math.max(lastEnd, ended);
    ports.metrics?.check(ended - started, lagMs, timedOut);
  };

  for (const { bouncer, slot } of jobs) {
    const wait = slot - clock.now();
    if (wait > 0) await clock.sleep(wait, signal);
    while (running >= concurrency && !signal?.aborted)
      await new Promise<void>((resolve) => (freed = resolve));
    if (signal?.aborted) break;
    running += 1;
    const task: Promise<void> = checkOne(bouncer, slot).finally(() => {
      running -= 1;
      inFlight.delete(task);
      const wake = freed;
      freed = undefined;
      wake?.();
    });
    inFlight.add(task);
  }
  // A stop while waiting for a free slot: wake the waiter (handled above) and drain.
  await Promise.all([...inFlight]);
  const report: WindowReport = {
    windowStart,
    checked: jobs.length,
    counts,
    timeouts,
    maxLagMs,
    durationMs: lastEnd - windowStart,
    overrunMs: Math.max(0, lastEnd - (windowStart + interval)),
  };
  ports.metrics?.window(report);
  return report;
}

/**
 * Runs windows back to back: window k+1 starts interval after window k (at once when window k
 * ran over, the lag metrics then show by how much). `stop()` starts no new check and waits for
 * those in flight.
 */
export function startVerifyLoop(
  ports: VerifyLoopPorts,
  options: VerifyLoopOptions,
  onWindowError: (error: unknown) => void,
): { stop: () => Promise<void>; done: Promise<void> } {
  const stopping = new AbortController();
  const done = (async () => {
    let windowStart = ports.clock.now();
    while (!stopping.signal.aborted) {
      try {
        await runVerifyWindow(ports, options, windowStart, stopping.signal);
      } catch (error) {
        onWindowError(error); // the list failed: try again next window
      }
      windowStart += options.intervalMs;
      const wait = windowStart - ports.clock.now();
      if (wait > 0) await ports.clock.sleep(wait, stopping.signal);
    }
  })();
  return {
    done,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
