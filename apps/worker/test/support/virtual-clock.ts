import type { LoopClock } from "../../src/bouncers/verify-loop";

/** Lets every promise chain that can run, run (no timers involved). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * A clock whose time moves only when the test says so: sleeps wake in time order as
 * `advanceTo` passes them, with the promise chains they start settled in between.
 */
export class VirtualClock implements LoopClock {
  private timers: { at: number; wake: () => void }[] = [];

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = {
        at: this.t + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Moves time to `target`, waking every sleep due on the way, in order. */
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await settle();
      const next = this.timers.reduce<{ at: number } | undefined>(
        (a, b) => (a === undefined || b.at < a.at ? b : a),
        undefined,
      );
      if (next === undefined || next.at > target) break;
      const due = this.timers.filter((x) => x.at === next.at);
      this.timers = this.timers.filter((x) => x.at !== next.at);
      this.t = next.at;
      for (const x of due) x.wake();
    }
    this.t = Math.max(this.t, target);
    await settle();
  }

  get pending(): number {
    return this.timers.length;
  }
}
