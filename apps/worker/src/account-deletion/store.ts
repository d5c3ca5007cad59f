import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import type { DeletionJob, DeletionStore } from "./ports";

const d = accounts.accountDeletions;

/**
 * What stays of a deleted user in the audit log: `deleted-user-<deletion id>`. The deletion id is
 * random and the deletion row keeps no name once done, so the audit trail still shows that one
 * (anonymous) person did these things, and nobody can tell who.
 */
export function anonymousId(job: Pick<DeletionJob, "id">): string {
  return `deleted-user-${job.id}`;
}

export function dbDeletionStore(db: AccountsDb, namespace: string): DeletionStore {
  return {
    async nextDue() {
      const [row] = await db
        .select()
        .from(d)
        .where(and(isNull(d.completedAt), sql`${d.nextAttemptAt} <= now()`))
        .orderBy(asc(d.nextAttemptAt))
        .limit(1);
      if (!row) return null;
      return {
        id: row.id,
        userId: row.userId,
        keycloakSubject: row.keycloakSubject,
        username: row.username,
        stripeCustomerId: row.stripeCustomerId,
        stripeSubscriptionId: row.stripeSubscriptionId,
        step: row.step,
        attempts: row.attempts,
      };
    },

    async advance(id, from, to) {
      await db
        .update(d)
        .set({ step: to, lastError: null, updatedAt: sql`now()` })
        .where(and(eq(d.id, id), eq(d.step, from)));
    },

    async fail(id, error, retryInMs, failure) {
      await db
        .update(d)
        .set({
          lastError: error,
          attempts: failure ? sql`${d.attempts} + 1` : d.attempts,
          nextAttemptAt: sql`now() + make_interval(secs => ${retryInMs / 1000})`,
          updatedAt: sql`now()`,
        })
        // a crash reported after the last step committed leaves the finished row alone
        .where(and(eq(d.id, id), isNull(d.completedAt)));
    },

    async ergoAccountsOwnedBy(userId) {
      const rows = await db
        .select({ account: accounts.ergoAccounts.account })
        .from(accounts.ergoAccounts)
        .where(eq(accounts.ergoAccounts.ownerUserId, userId));
      return rows.map((r) => r.account);
    },

    async ergoAccountOwner(account) {
      const [row] = await db
        .select({ owner: accounts.ergoAccounts.ownerUserId })
        .from(accounts.ergoAccounts)
        .where(eq(accounts.ergoAccounts.account, account.toLowerCase()));
      return row?.owner ?? null;
    },

    async forgetBouncers(bouncers) {
      const uids = bouncers.map((b) => b.uid);
      if (uids.length === 0) return;
      await db.transaction(async (tx) => {
        await tx
          .delete(accounts.bouncerSetupAttempts)
          .where(
            and(
              eq(accounts.bouncerSetupAttempts.namespace, namespace),
              inArray(accounts.bouncerSetupAttempts.bouncerUid, uids),
            ),
          );
        await tx
          .delete(accounts.bouncerUpstreamStates)
          .where(
            and(
              eq(accounts.bouncerUpstreamStates.namespace, namespace),
              inArray(accounts.bouncerUpstreamStates.bouncerUid, uids),
            ),
          );
      });
    },

    async deleteAccountRows(job) {
      const anon = anonymousId(job);
      const userId = job.userId;
      // A user already deleted (a crash after this commit is impossible: it is one transaction)
      // or never named: match nothing by name.
      const username = job.username ?? "";
      await db.transaction(async (tx) => {
        // Audit rows about this person keep their shape with the anonymous id in every place
        // that named them: as the actor, as the target (`user/<id>`, or a bouncer of theirs), and
        // any top-level detail equal to their id or username. Admins' free-text reasons stay.
        await tx.execute(sql`
          UPDATE admin_audit_log a SET
            actor_username = CASE WHEN a.actor_user_id = ${userId} OR a.actor_username = ${username}
                                  THEN ${anon} ELSE a.actor_username END,
            target = CASE WHEN a.target = 'user/' || ${userId} THEN 'user/' || ${anon}
                          WHEN a.details->>'ownerUserId' = ${userId} OR a.details->>'account' = ${username}
                          THEN regexp_replace(a.target, '[^/]*$', ${anon})
                          ELSE a.target END,
            details = (SELECT coalesce(jsonb_object_agg(e.k,
                          CASE WHEN e.v IN (to_jsonb(${userId}::text), to_jsonb(${username}::text))
                               THEN to_jsonb(${anon}::text) ELSE e.v END), '{}'::jsonb)
                         FROM jsonb_each(a.details) AS e(k, v))
          WHERE a.actor_user_id = ${userId} OR a.actor_username = ${username}
             OR a.target = 'user/' || ${userId}
             OR a.details->>'ownerUserId' = ${userId} OR a.details->>'userId' = ${userId}
             OR a.details->>'account' = ${username}`);
        // Rate-limit counters keyed by the user's id (they would expire anyway).
        await tx.execute(sql`DELETE FROM rate_limits WHERE key LIKE '%' || ${userId} || '%'`);
        // Everything else of theirs (ergo_accounts, bouncers projection, app passwords, imports,
        // Keycloak outbox) goes with the user row (ON DELETE CASCADE).
        await tx.delete(accounts.users).where(eq(accounts.users.id, userId));
        await tx
          .update(d)
          .set({
            keycloakSubject: null,
            username: null,
            stripeCustomerId: null,
            stripeSubscriptionId: null,
            step: "done",
            completedAt: sql`now()`,
            updatedAt: sql`now()`,
            lastError: null,
          })
          .where(eq(d.id, job.id));
      });
    },

    async stats() {
      const { rows } = await db.execute<{ pending: number; failing: number; oldest: number }>(sql`
        SELECT count(*)::int AS pending,
               count(*) FILTER (WHERE last_error IS NOT NULL)::int AS failing,
               coalesce(extract(epoch FROM now() - min(requested_at)), 0)::float8 AS oldest
          FROM account_deletions WHERE completed_at IS NULL`);
      const row = rows[0];
      return {
        pending: row?.pending ?? 0,
        failing: row?.failing ?? 0,
        oldestAgeS: row?.oldest ?? 0,
      };
    },
  };
}
