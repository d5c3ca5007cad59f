import { and, eq, isNull, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import type { DomainContext } from "./context";
import { DomainError } from "./errors";

/** A user's pending pushes count as stuck after this many failed attempts… */
export const STUCK_ATTEMPTS = 3;
/** …or once the oldest has waited this long (the alert IrcNowOutboxStuck uses the same). */
export const STUCK_AGE_S = 15 * 60;

/** One user's undelivered Keycloak outbox rows that need an admin's eye. */
export interface StuckOutboxItem {
  userId: string;
  username: string;
  /** Why the rows were written (`login`, `profile`, `plan`, `admin_retry`). */
  reasons: string[];
  rows: number;
  /** The most failed pushes of any of them. */
  attempts: number;
  /** The worker's last error (admins only: Keycloak's status and words, never a secret). */
  lastError: string | null;
  oldestAt: Date;
  ageS: number;
  lastAttemptAt: Date | null;
  /** null when held: Keycloak has no such user, and only a retry pushes again. */
  nextAttemptAt: Date | null;
  held: boolean;
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const toDateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : toDate(v);

/**
 * Stuck items of the Keycloak outbox, per user (the worker pushes a user's state once for all
 * their pending rows): failed `STUCK_ATTEMPTS` times, older than `STUCK_AGE_S`, or held for an
 * admin (`next_attempt_at = 'infinity'`, written by the worker on `not_found`). Held first, then
 * oldest first. `pending` counts every undelivered row, stuck or not.
 */
export async function stuckOutboxItems(
  ctx: Pick<DomainContext, "db">,
  limit = 200,
): Promise<{ items: StuckOutboxItem[]; pending: number }> {
  const [{ rows }, { rows: totals }] = await Promise.all([
    ctx.db.execute<Record<string, unknown>>(sql`
      SELECT o.user_id, u.username,
             count(*)::int AS rows,
             array_agg(DISTINCT o.reason::text ORDER BY o.reason::text) AS reasons,
             max(o.attempts)::int AS attempts,
             (array_agg(o.last_error ORDER BY o.last_attempt_at DESC NULLS LAST))[1] AS last_error,
             min(o.created_at) AS oldest_at,
             extract(epoch FROM now() - min(o.created_at))::float8 AS age_s,
             max(o.last_attempt_at) AS last_attempt_at,
             bool_or(o.next_attempt_at = 'infinity') AS held,
             min(o.next_attempt_at) FILTER (WHERE isfinite(o.next_attempt_at)) AS next_attempt_at
        FROM keycloak_outbox o
        JOIN users u ON u.id = o.user_id
       WHERE o.delivered_at IS NULL
       GROUP BY o.user_id, u.username
      HAVING max(o.attempts) >= ${STUCK_ATTEMPTS}
          OR min(o.created_at) < now() - make_interval(secs => ${STUCK_AGE_S})
          OR bool_or(o.next_attempt_at = 'infinity')
       ORDER BY held DESC, oldest_at ASC
       LIMIT ${limit}`),
    ctx.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM keycloak_outbox WHERE delivered_at IS NULL`,
    ),
  ]);
  return {
    pending: Number(totals[0]?.n ?? 0),
    items: rows.map((r) => {
      const held = r.held === true;
      return {
        userId: String(r.user_id),
        username: String(r.username),
        reasons: (r.reasons as string[] | null) ?? [],
        rows: Number(r.rows),
        attempts: Number(r.attempts),
        lastError: (r.last_error as string | null) ?? null,
        oldestAt: toDate(r.oldest_at),
        ageS: Math.max(0, Math.round(Number(r.age_s))),
        lastAttemptAt: toDateOrNull(r.last_attempt_at),
        nextAttemptAt: held ? null : toDateOrNull(r.next_attempt_at),
        held,
      };
    }),
  };
}

/** The audit target of a user's outbox items. */
export const outboxAuditTarget = (userId: string) => `keycloak-outbox/user/${userId}`;

/**
 * Admin "Retry": every pending row of the user is due now (held ones included) and the worker's
 * leader is woken at commit; the audit log records who, when and what was waiting. Attempts are
 * kept, so the history stays visible and a new failure backs off from where it was.
 */
export async function retryOutboxItem(
  ctx: Pick<DomainContext, "db">,
  admin: { id: string; username: string },
  userId: string,
) {
  const outbox = accounts.keycloakOutbox;
  return ctx.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ username: accounts.users.username })
      .from(accounts.users)
      .where(eq(accounts.users.id, userId));
    const before = await tx
      .select({
        id: outbox.id,
        attempts: outbox.attempts,
        lastError: outbox.lastError,
        held: sql<boolean>`${outbox.nextAttemptAt} = 'infinity'`,
      })
      .from(outbox)
      .where(and(eq(outbox.userId, userId), isNull(outbox.deliveredAt)))
      .orderBy(outbox.id)
      .for("update");
    if (!user || before.length === 0)
      throw new DomainError(
        "NOT_FOUND",
        "Nothing is waiting to be pushed to Keycloak for this user any more (delivered meanwhile, or the account is gone).",
      );
    await tx
      .update(outbox)
      .set({ nextAttemptAt: sql`now()` })
      .where(and(eq(outbox.userId, userId), isNull(outbox.deliveredAt)));
    // The insert trigger is what usually wakes the drain; an update does not, so say it here.
    await tx.execute(sql`SELECT pg_notify('irc_now_keycloak_outbox', '')`);
    const [entry] = await tx
      .insert(accounts.adminAuditLog)
      .values({
        actorUserId: admin.id,
        actorUsername: admin.username,
        action: "keycloak_outbox.retry",
        target: outboxAuditTarget(userId),
        reason: null,
        details: {
          username: user.username,
          rows: before.length,
          attempts: Math.max(...before.map((r) => r.attempts)),
          held: before.some((r) => r.held),
          lastError: before.findLast((r) => r.lastError)?.lastError ?? null,
        },
      })
      .returning();
    return entry!;
  });
}
