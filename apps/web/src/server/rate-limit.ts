import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { AccountsDb } from "@irc-now/db";

/** A budget: `points` actions per `durationS` seconds per key (e.g. per user id). */
export interface RateLimit {
  /** Key prefix, unique per limit (e.g. `bouncer-create`). */
  name: string;
  points: number;
  durationS: number;
}

/** Thrown when a key has used its budget; `retryAfterS` is when the next action is allowed. */
export class RateLimited extends Error {
  constructor(
    readonly limit: string,
    readonly retryAfterS: number,
  ) {
    super(`rate limit ${limit} reached; next allowed in ${retryAfterS} s`);
    this.name = "RateLimited";
  }
}

export interface RateLimiter {
  /** Spends one point of `key`'s budget, or throws RateLimited. */
  consume(key: string): Promise<void>;
  /** Gives one point back (e.g. an action that failed on our side should not count). */
  refund(key: string): Promise<void>;
}

/**
 * Counters live in the accounts DB (`rate_limits`, migration 0003) so every web replica shares
 * them; while the DB is unreachable a per-process memory limiter stands in (the library's
 * insurance limiter), so an outage neither lifts the limits nor turns them into errors.
 */
export function rateLimiter(db: AccountsDb, limit: RateLimit): RateLimiter {
  const options = { keyPrefix: limit.name, points: limit.points, duration: limit.durationS };
  const store = new RateLimiterPostgres({
    ...options,
    storeClient: db.$client,
    storeType: "pool",
    tableName: "rate_limits",
    // The migration creates the table; the web's DB role needs no DDL rights.
    tableCreated: true,
    // No timer per limiter: an expired row is reset in place by the next consume.
    clearExpiredByTimeout: false,
    insuranceLimiter: new RateLimiterMemory(options),
  });
  return {
    async consume(key) {
      try {
        await store.consume(key);
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          throw new RateLimited(limit.name, Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
        }
        throw error;
      }
    },
    async refund(key) {
      await store.reward(key, 1);
    },
  };
}
