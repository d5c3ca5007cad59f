import { describe, expect, it } from "vitest";
import { planFor, suspensionPlan } from "../src/plan-rules";

const now = new Date("2026-12-01T00:00:00Z");
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

describe("planFor", () => {
  it("active and trialing are pro; canceled, unpaid, incomplete(_expired), paused and none are free", () => {
    for (const status of ["active", "trialing"])
      expect(planFor({ status, pastDueSince: null }, now, 7).plan).toBe("pro");
    for (const status of ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused", null])
      expect(planFor({ status, pastDueSince: null }, now, 7).plan).toBe("free");
  });

  it("past_due keeps pro until the grace days after the first failure, then free", () => {
    expect(planFor({ status: "past_due", pastDueSince: daysAgo(6) }, now, 7)).toEqual({
      plan: "pro",
      graceEndsAt: new Date(daysAgo(6).getTime() + 7 * 86_400_000),
    });
    expect(planFor({ status: "past_due", pastDueSince: daysAgo(7) }, now, 7).plan).toBe("free");
    expect(planFor({ status: "past_due", pastDueSince: daysAgo(1) }, now, 0).plan).toBe("free");
  });
});

describe("suspensionPlan", () => {
  const b = (name: string, day: number, suspended = false) => ({
    name,
    createdAt: daysAgo(30 - day),
    suspended,
  });

  it("keeps the oldest within the quota and suspends the newer ones", () => {
    expect(suspensionPlan([b("c", 3), b("a", 1), b("b", 2)], 1)).toEqual({
      suspend: ["b", "c"],
      resume: [],
    });
  });

  it("resumes the oldest suspended first when the quota grows, and leaves settled ones alone", () => {
    expect(suspensionPlan([b("a", 1), b("b", 2, true), b("c", 3, true)], 2)).toEqual({
      suspend: [],
      resume: ["b"],
    });
    expect(suspensionPlan([b("a", 1), b("b", 2, true)], 1)).toEqual({ suspend: [], resume: [] });
  });

  it("breaks creation-time ties by name", () => {
    const t = daysAgo(1);
    expect(
      suspensionPlan(
        [
          { name: "y", createdAt: t, suspended: false },
          { name: "x", createdAt: t, suspended: false },
        ],
        1,
      ).suspend,
    ).toEqual(["y"]);
  });
});
