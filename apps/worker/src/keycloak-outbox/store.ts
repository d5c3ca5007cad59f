import { and, inArray, isNull, lt, sql } from "drizzle-orm";
import { accounts, type AccountsDbOrTx } from "@irc-now/db";
import type { OutboxStats, OutboxStore, OutboxUserSnapshot } from "./ports";

const outbox = accounts.keycloakOutbox;

/**
 * Rows given up on carry `next_attempt_at = 'infinity'`: never due, still pending, and one admin
 * retry (`next_attempt_at = now()`) away from being pushed again. No extra column needed.
 */
export const HELD = sql`'infinity'::timestamptz`;

export function dbOutboxStore(db: AccountsDbOrTx): OutboxStore {
  return {
    withUserLock(userId, fn) {
      return db.transaction(async (tx) => {
        await accounts.lockKeycloakUser(tx, userId);
        return fn(dbOutboxStore(tx));
      });
    },

    async dueUsers(limit) {
      const rows = await db
        .select({ userId: outbox.userId })
        .from(outbox)
        .where(and(isNull(outbox.deliveredAt), sql`${outbox.nextAttemptAt} <= now()`))
        .groupBy(outbox.userId)
        .orderBy(sql`min(${outbox.id})`)
        .limit(limit);
      return rows.map((r) => r.userId);
    },

    async snapshot(userId) {
      // One statement is one snapshot: the user's row and the pending ids it covers agree.
      const { rows } = await db.execute<{
        keycloak_subject: string;
        plan: "free" | "pro";
        content_auto_expire: boolean;
        display_name: string | null;
        deleting: boolean;
        ids: string[] | null;
        max_attempts: number | null;
      }>(sql`
        SELECT u.keycloak_subject, u.plan, u.content_auto_expire, u.display_name,
               EXISTS (SELECT 1 FROM account_deletions d WHERE d.user_id = u.id) AS deleting,
               o.ids, o.max_attempts
          FROM users u
         CROSS JOIN LATERAL (
               SELECT array_agg(k.id ORDER BY k.id)::text[] AS ids, max(k.attempts) AS max_attempts
                 FROM keycloak_outbox k
                WHERE k.user_id = u.id AND k.delivered_at IS NULL) o
         WHERE u.id = ${userId}`);
      const row = rows[0];
      if (!row?.ids?.length) return null;
      const snap: OutboxUserSnapshot = {
        userId,
        keycloakSubject: row.keycloak_subject,
        state: {
          plan: row.plan,
          contentAutoExpire: row.content_auto_expire,
          displayName: row.display_name,
        },
        ids: row.ids.map(Number),
        maxAttempts: row.max_attempts ?? 0,
        deleting: row.deleting,
      };
      return snap;
    },

    async settle(ids, note) {
      if (ids.length === 0) return;
      await db
        .update(outbox)
        .set({
          deliveredAt: sql`now()`,
          lastAttemptAt: sql`now()`,
          ...(note === undefined ? {} : { lastError: note }),
        })
        .where(and(inArray(outbox.id, [...ids]), isNull(outbox.deliveredAt)));
    },

    async fail(ids, error, retryInMs) {
      if (ids.length === 0) return;
      await db
        .update(outbox)
        .set({
          attempts: sql`${outbox.attempts} + 1`,
          lastAttemptAt: sql`now()`,
          lastError: error,
          nextAttemptAt:
            retryInMs === null
              ? HELD
              : sql`now() + make_interval(secs => ${retryInMs / 1000}::double precision)`,
        })
        .where(and(inArray(outbox.id, [...ids]), isNull(outbox.deliveredAt)));
    },

    async prune(olderThanMs) {
      const result = await db
        .delete(outbox)
        .where(
          lt(
            outbox.deliveredAt,
            sql`now() - make_interval(secs => ${olderThanMs / 1000}::double precision)`,
          ),
        );
      return result.rowCount ?? 0;
    },

    async stats(): Promise<OutboxStats> {
      const { rows } = await db.execute<{ pending: string; oldest_s: number | null; held: string }>(
        sql`SELECT count(*) AS pending,
                   extract(epoch FROM now() - min(created_at))::float8 AS oldest_s,
                   count(*) FILTER (WHERE next_attempt_at = 'infinity') AS held
              FROM keycloak_outbox WHERE delivered_at IS NULL`,
      );
      const row = rows[0];
      return {
        pending: Number(row?.pending ?? 0),
        oldestAgeS: Math.max(0, row?.oldest_s ?? 0),
        held: Number(row?.held ?? 0),
      };
    },
  };
}
