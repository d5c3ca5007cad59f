import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { serializeOutput } from "~/server/api/transformer";

// The server's output writer must put on the wire exactly what superjson writes, because the
// browser decodes with superjson (src/trpc/links.ts).
const wire = (value: unknown) => JSON.stringify(serializeOutput(value));
const superjsonWire = (value: unknown) => JSON.stringify(superjson.serialize(value));
const decoded = (value: unknown) => superjson.deserialize(JSON.parse(wire(value)));

const at = (iso: string) => new Date(iso);

/** A bouncer.mine answer's shape: Dates several levels down, nulls, numbers, booleans. */
const mineLike = {
  bouncers: [0, 1, 2].map((i) => ({
    name: `bnc-${i}`,
    ready: i > 0,
    upstream: i === 1 ? null : { state: "authenticated", checkedAt: at("2026-12-01T05:00:00Z") },
    lastAttempt: { attemptNo: i, startedAt: at("2026-12-01T04:00:00Z"), finishedAt: null },
    suspension: i === 2 ? { since: at("2026-11-30T00:00:00.123Z"), upgrade: false } : null,
  })),
  quota: 3,
  plan: "pro",
};

describe("the tRPC output writer: superjson's wire, written faster", () => {
  it.each([
    ["a bouncer.mine-like answer", mineLike],
    ["plain JSON without Dates", { a: [1, "two", true, null, { b: [] }], c: {} }],
    ["a Date at the root", at("2026-12-01T00:00:00Z")],
    ["Dates in a root array", [at("2026-12-01T00:00:00Z"), "x", [at("2026-01-01T00:00:00Z")]]],
    ["keys with dots and backslashes", { "a.b": { "c\\d": at("2026-12-01T00:00:00Z") } }],
    ["primitives", "text"],
    ["null", null],
    ["a number", 42.5],
  ])("%s: the same bytes as superjson, decoded to an equal value", (_, value) => {
    expect(wire(value)).toBe(superjsonWire(value));
    expect(decoded(value)).toEqual(value);
  });

  it("leaves what plain JSON cannot say to superjson (the same bytes)", () => {
    class Point {
      constructor(public x = 1) {}
    }
    const shared = { s: 1 };
    const cyclic: Record<string, unknown> = { name: "loop" };
    cyclic.self = cyclic;
    for (const value of [
      { a: undefined },
      [1, undefined],
      { m: new Map([["k", 1]]) },
      { s: new Set([1]) },
      { n: 10n },
      { nan: Number.NaN, inf: Number.POSITIVE_INFINITY },
      { negativeZero: -0, list: [0, -0] },
      { p: new Point() },
      { first: shared, second: shared },
      { d: new Date(Number.NaN) },
      cyclic,
      Object.assign(Object.create(null) as object, { x: 1 }),
    ])
      expect(wire(value)).toBe(superjsonWire(value));
    // A shared object comes back shared, as superjson writes it.
    const both = decoded({ first: shared, second: shared }) as { first: object; second: object };
    expect(both.first).toBe(both.second);
    expect(Object.is((decoded({ z: -0 }) as { z: number }).z, -0)).toBe(true);
  });

  it("refuses a key superjson refuses", () => {
    const value = JSON.parse('{"ok": {"__proto__": {"polluted": true}}}') as unknown;
    expect(() => superjson.serialize(value)).toThrow();
    expect(() => serializeOutput(value)).toThrow();
  });
});
