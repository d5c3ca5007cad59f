import { describe, expect, it } from "vitest";
import { KeyedQueue } from "../src/bouncers/queue";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("KeyedQueue", () => {
  it("runs one handler per key at a time and re-runs a key enqueued while in flight", async () => {
    const running = new Set<string>();
    let overlaps = 0;
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const queue = new KeyedQueue(
      async (key) => {
        if (running.has(key)) overlaps += 1;
        running.add(key);
        runs.push(key);
        if (runs.length === 1) await gate;
        running.delete(key);
        return "done";
      },
      { concurrency: 4, baseDelayMs: 10, maxDelayMs: 100 },
    );
    queue.add("a");
    await tick();
    queue.add("a");
    queue.add("a");
    queue.add("b");
    await tick();
    expect(runs).toEqual(["a", "b"]);
    release();
    await queue.idle();
    expect(runs).toEqual(["a", "b", "a"]);
    expect(overlaps).toBe(0);
  });

  it("bounds global concurrency", async () => {
    let active = 0;
    let peak = 0;
    const queue = new KeyedQueue(
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await tick(10);
        active -= 1;
        return "done";
      },
      { concurrency: 2, baseDelayMs: 10, maxDelayMs: 100 },
    );
    for (let i = 0; i < 10; i++) queue.add(`k${i}`);
    await queue.idle();
    expect(peak).toBe(2);
  });

  it("retries failures with capped exponential backoff, and a throwing handler does not stop the queue", async () => {
    const attempts: Record<string, number> = {};
    const errors: string[] = [];
    const queue = new KeyedQueue(
      async (key) => {
        attempts[key] = (attempts[key] ?? 0) + 1;
        if (key === "boom" && attempts[key] < 3) throw new Error("kaboom");
        if (key === "flaky" && attempts[key] < 3) return "retry";
        return "done";
      },
      { concurrency: 2, baseDelayMs: 5, maxDelayMs: 20, jitter: 0 },
      (key, error) => errors.push(`${key}: ${(error as Error).message}`),
    );
    queue.add("boom");
    queue.add("flaky");
    queue.add("fine");
    const deadline = Date.now() + 5_000;
    while ((attempts.boom ?? 0) < 3 || (attempts.flaky ?? 0) < 3) {
      if (Date.now() > deadline) throw new Error("retries did not happen");
      await tick();
    }
    await queue.idle();
    expect(attempts).toEqual({ boom: 3, flaky: 3, fine: 1 });
    expect(errors).toEqual(["boom: kaboom", "boom: kaboom"]);
    expect(queue.retriesOf("boom")).toBe(0);
    expect([1, 2, 3, 4, 5, 10].map((n) => queue.backoff(n))).toEqual([5, 10, 20, 20, 20, 20]);
    await queue.stop();
  });

  it("a fresh event replaces a scheduled retry, and stop() cancels retries", async () => {
    let calls = 0;
    const queue = new KeyedQueue(
      async () => {
        calls += 1;
        return "retry";
      },
      { concurrency: 1, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 },
    );
    queue.add("x");
    await queue.idle();
    expect(queue.size.scheduled).toBe(1);
    queue.add("x");
    await queue.idle();
    expect(calls).toBe(2);
    await queue.stop();
    expect(queue.size).toEqual({ pending: 0, inFlight: 0, scheduled: 0 });
  });
});
