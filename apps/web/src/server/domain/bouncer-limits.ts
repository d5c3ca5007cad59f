import type { AccountsDb } from "@irc-now/db";
import { RateLimited, rateLimiter, type RateLimiter } from "../rate-limit";
import type { Actor } from "./context";
import { DomainError } from "./errors";

/**
 * Each user's budget of bouncer creates and deletes together (`BOUNCER_CHANGE_LIMIT` per
 * `BOUNCER_CHANGE_WINDOW_S`): every create-delete cycle provisions a tenant DB and a pod and
 * resets the user's ergo password.
 */
export interface BouncerChangeLimit {
  points: number;
  durationS: number;
}

const limiters = new WeakMap<AccountsDb, Map<string, RateLimiter>>();

/**
 * One limiter per pool and budget for the life of the process: its in-memory fallback (while the
 * DB is down) must count across requests.
 */
export function bouncerChangeLimiter(db: AccountsDb, limit: BouncerChangeLimit): RateLimiter {
  let byBudget = limiters.get(db);
  if (!byBudget) limiters.set(db, (byBudget = new Map()));
  const key = `${limit.points}/${limit.durationS}`;
  let limiter = byBudget.get(key);
  if (!limiter) {
    limiter = rateLimiter(db, { name: "bouncer-change", ...limit });
    byBudget.set(key, limiter);
  }
  return limiter;
}

/** The user did something we refuse (quota, name, confirmation); anything else failed on our side. */
const failedOnOurSide = (error: unknown) =>
  !(error instanceof DomainError) || error.kind === "UNAVAILABLE";

/**
 * Runs a create or delete within the user's budget, or refuses it with RATE_LIMITED saying when
 * to try again. A change that failed on our side gives its point back.
 */
export async function withinBouncerChangeLimit<T>(
  limiter: RateLimiter,
  actor: Actor,
  change: () => Promise<T>,
): Promise<T> {
  try {
    await limiter.consume(actor.id);
  } catch (error) {
    if (error instanceof RateLimited)
      throw new DomainError(
        "RATE_LIMITED",
        `You have created or deleted bouncers too often. Please try again in ${error.retryAfterS} s.`,
      );
    throw error;
  }
  try {
    return await change();
  } catch (error) {
    // The refund is a courtesy: failing to give it must not hide the change's own error.
    if (failedOnOurSide(error)) await limiter.refund(actor.id).catch(() => undefined);
    throw error;
  }
}
