import { setTimeout as sleep } from "node:timers/promises";
import type { Session } from "next-auth";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createAccountsDb } from "@irc-now/db";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { bouncerChangeLimiter, withinBouncerChangeLimit } from "~/server/domain/bouncer-limits";
import type { Actor } from "~/server/domain/context";
import { DomainError } from "~/server/domain/errors";
import { recordLogin } from "~/server/domain/users";
import { RateLimited, rateLimiter, type RateLimiter } from "~/server/rate-limit";
import { useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

let world: World;
let limitSeq = 0;
/** A fresh budget (its own key prefix) per test. */
const budget = (points: number, durationS: number) => ({
  name: `test-${++limitSeq}`,
  points,
  durationS,
});

/** The error a call ends with (undefined when it succeeds). */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A DB nothing listens on: every query fails at connect, at once. */
const deadDb = () =>
  createAccountsDb("postgresql://nobody@127.0.0.1:1/none", { connectionTimeoutMillis: 500 });

async function spend(limiter: RateLimiter, key: string, times: number) {
  for (let i = 0; i < times; i++) await limiter.consume(key);
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world, {
    // A tiny budget and window, so the test sees the limit engage and release.
    BOUNCER_CHANGE_LIMIT: "3",
    BOUNCER_CHANGE_WINDOW_S: "2",
  });
});
afterAll(async () => {
  await world?.stop();
});

describe("rateLimiter (rate-limit.ts)", () => {
  it("allows `points` actions per window per key, then says when to try again, then releases", async () => {
    const limit = budget(2, 1);
    const limiter = rateLimiter(world.db, limit);
    await spend(limiter, "alice", 2);
    await limiter.consume("bob"); // keys are counted apart
    const refused = await outcome(limiter.consume("alice"));
    expect(refused).toBeInstanceOf(RateLimited);
    expect(refused).toMatchObject({ limit: limit.name, retryAfterS: 1 });
    await sleep(1_100);
    await limiter.consume("alice");
  });

  it("counts in the accounts DB, shared by every limiter (replica) on it", async () => {
    const limit = budget(2, 60);
    const one = rateLimiter(world.db, limit);
    const otherDb = createAccountsDb(world.databaseUrl);
    const other = rateLimiter(otherDb, limit);
    try {
      await one.consume("alice");
      await other.consume("alice");
      const refused = await outcome(one.consume("alice"));
      expect(refused).toBeInstanceOf(RateLimited);
      expect((refused as RateLimited).retryAfterS).toBeGreaterThan(1);
      expect((refused as RateLimited).retryAfterS).toBeLessThanOrEqual(60);
    } finally {
      await otherDb.$client.end();
    }
    const { rows } = await world.db.$client.query<{ key: string; points: number }>(
      "SELECT key, points FROM rate_limits WHERE key = $1",
      [`${limit.name}:alice`],
    );
    expect(rows).toEqual([{ key: `${limit.name}:alice`, points: 3 }]);
  });

  it("gives a point back on refund", async () => {
    const limiter = rateLimiter(world.db, budget(1, 60));
    await limiter.consume("alice");
    await limiter.refund("alice");
    await limiter.consume("alice");
    expect(await outcome(limiter.consume("alice"))).toBeInstanceOf(RateLimited);
  });

  it("while the DB is down, limits per process instead of failing open or erroring", async () => {
    const db = deadDb();
    try {
      const limiter = rateLimiter(db, budget(2, 60));
      await spend(limiter, "alice", 2);
      await limiter.refund("alice");
      await limiter.consume("alice");
      const refused = await outcome(limiter.consume("alice"));
      expect(refused).toBeInstanceOf(RateLimited);
      expect((refused as RateLimited).retryAfterS).toBeGreaterThan(1);
    } finally {
      await db.$client.end();
    }
  });
});

describe("bouncer creates and deletes", () => {
  const actor = (): Actor => ({ id: "user-1", username: "alice", plan: "free" });

  it("refuse with RATE_LIMITED and the seconds to wait, and refund failures on our side only", async () => {
    const limiter = rateLimiter(world.db, budget(2, 60));
    const ours = new DomainError("UNAVAILABLE", "our side");
    const theirs = new DomainError("PRECONDITION_FAILED", "quota");
    // Failed on our side: refunded, so both of these are free.
    expect(
      await outcome(withinBouncerChangeLimit(limiter, actor(), () => Promise.reject(ours))),
    ).toBe(ours);
    expect(
      await outcome(
        withinBouncerChangeLimit(limiter, actor(), () => Promise.reject(new Error("bug"))),
      ),
    ).toBeInstanceOf(Error);
    // The user's own refusals count.
    expect(
      await outcome(withinBouncerChangeLimit(limiter, actor(), () => Promise.reject(theirs))),
    ).toBe(theirs);
    expect(await withinBouncerChangeLimit(limiter, actor(), () => Promise.resolve("done"))).toBe(
      "done",
    );
    let ran = false;
    const refused = await outcome(
      withinBouncerChangeLimit(limiter, actor(), () => {
        ran = true;
        return Promise.resolve();
      }),
    );
    expect(ran).toBe(false);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ kind: "RATE_LIMITED" });
    expect((refused as DomainError).message).toMatch(
      /^You have created or deleted bouncers too often\. Please try again in ([1-9]|[1-5][0-9]|60) s\.$/,
    );
  });

  it("keep their budget in memory while the DB is down", async () => {
    const db = deadDb();
    try {
      const limiter = bouncerChangeLimiter(db, { points: 1, durationS: 60 });
      // The same limiter for the next request: its fallback counts across requests.
      expect(bouncerChangeLimiter(db, { points: 1, durationS: 60 })).toBe(limiter);
      await withinBouncerChangeLimit(limiter, actor(), () => Promise.resolve());
      const refused = await outcome(
        withinBouncerChangeLimit(
          bouncerChangeLimiter(db, { points: 1, durationS: 60 }),
          actor(),
          () => Promise.resolve(),
        ),
      );
      expect(refused).toMatchObject({ kind: "RATE_LIMITED" });
    } finally {
      await db.$client.end();
    }
  });

  it("over tRPC: the limit engages (TOO_MANY_REQUESTS, with seconds) and then releases", async () => {
    const id = (await recordLogin(world.db, { subject: "kc-carol", username: "carol" })).id;
    const session: Session = {
      user: { id, username: "carol", isAdmin: false },
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const user = createCaller(createTRPCContext(session));
    // A create Kubernetes refuses (our side): refunded, so it does not count.
    const unsubscribe = world.kube.onRequest((r) => {
      if (r.method === "POST") world.kube.faults.failNextRequests(1, { code: 503 });
    });
    const failed = await outcome(user.bouncer.create({ name: "carol" })).finally(unsubscribe);
    expect(failed).toMatchObject({ code: "SERVICE_UNAVAILABLE" });

    await user.bouncer.create({ name: "carol" });
    await user.bouncer.delete({ name: "carol", confirmName: "carol" });
    await user.bouncer.create({ name: "carol-2" });
    const limited = await outcome(user.bouncer.delete({ name: "carol-2", confirmName: "carol-2" }));
    expect(limited).toBeInstanceOf(TRPCError);
    expect(limited).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect((limited as TRPCError).message).toMatch(
      /^You have created or deleted bouncers too often\. Please try again in [12] s\.$/,
    );
    expect((await user.bouncer.mine()).bouncers.map((b) => b.name)).toEqual(["carol-2"]);

    await sleep(2_100);
    expect(await user.bouncer.delete({ name: "carol-2", confirmName: "carol-2" })).toEqual({
      deleted: "carol-2",
    });
  });
});
