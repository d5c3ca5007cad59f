import { describe, expect, it } from "vitest";
import { retryDelayMs } from "../../src/keycloak-outbox/backoff";
import { defaultOutboxSettings } from "../../src/keycloak-outbox/ports";

const settings = { retryBaseMs: 2_000, retryCapMs: 300_000 };

describe("retry backoff", () => {
  it("doubles from the base per failure, jittered into the upper half", () => {
    expect(retryDelayMs(1, settings, () => 0)).toBe(1_000);
    expect(retryDelayMs(1, settings, () => 0.999_999)).toBe(2_000);
    expect(retryDelayMs(2, settings, () => 0.999_999)).toBe(4_000);
    expect(retryDelayMs(5, settings, () => 0)).toBe(16_000);
  });

  it("never exceeds the cap, however many failures", () => {
    for (const failures of [9, 10, 50, 10_000]) {
      expect(retryDelayMs(failures, settings, () => 0.999_999)).toBeLessThanOrEqual(300_000);
      expect(retryDelayMs(failures, settings, () => 0)).toBe(150_000);
    }
  });

  it("spreads users who failed together", () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(4, settings)));
    expect(delays.size).toBeGreaterThan(1);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(8_000);
  });

  it("defaults: 2 s … 5 min", () => {
    expect(defaultOutboxSettings).toMatchObject({ retryBaseMs: 2_000, retryCapMs: 300_000 });
  });
});
