/**
 * A work queue of object keys: each key is processed by at most one worker at a time, a key
 * enqueued while in flight runs once more afterwards, global concurrency is bounded, and
 * failures are retried after an exponential, jittered, capped delay. One failing key never
 * stops the others.
 */
export interface QueueOptions {
  concurrency: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1 share of the delay that is random (spreads retries of many keys). */
  jitter?: number;
  random?: () => number;
}

/** What a handler returns: done, or retry later (with backoff). */
export type HandlerResult = "done" | "retry";

export class KeyedQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handler: (key: string) => Promise<HandlerResult>,
    private readonly options: QueueOptions,
    private readonly onError: (key: string, error: unknown) => void = () => undefined,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      // A fresh event beats a scheduled retry.
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.pending.has(key)) {
      this.pending.add(key);
      this.order.push(key);
    }
    this.pump();
  }

  /** Delay before retry number `failures` (1-based). */
  backoff(failures: number): number {
    const { baseDelayMs, maxDelayMs, jitter = 0.2, random = Math.random } = this.options;
    const raw = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, failures - 1));
    return Math.round(raw * (1 - jitter + jitter * 2 * random()));
  }

  retriesOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get size(): { pending: number; inFlight: number; scheduled: number } {
    return {
      pending: this.pending.size,
      inFlight: this.inFlight.size,
      scheduled: this.timers.size,
    };
  }

  /** Resolves when nothing is pending or in flight (scheduled retries do not count). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking work and cancels scheduled retries; resolves when in-flight work ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    this.order.length = 0;
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private pump(): void {
    while (
      !this.stopped &&
      this.inFlight.size < this.options.concurrency &&
      this.order.length > 0
    ) {
      const key = this.order.shift()!;
      this.pending.delete(key);
      this.inFlight.add(key);
      void this.run(key);
    }
    if (this.pending.size === 0 && this.inFlight.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    let result: HandlerResult;
    try {
      result = await this.handler(key);
    } catch (error) {
      this.onError(key, error);
      result = "retry";
    }
    this.inFlight.delete(key);
    if (result === "done") {
      this.failures.delete(key);
    } else if (!this.stopped) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      if (!this.dirty.has(key)) {
        const timer = setTimeout(() => {
          this.timers.delete(key);
          this.add(key);
        }, this.backoff(n));
        timer.unref();
        this.timers.set(key, timer);
      }
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
  }
}
