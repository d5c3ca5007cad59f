import { sql } from "drizzle-orm";
import type { AccountsDb } from "@irc-now/db";
import type { BouncerProjectionStore } from "./index";

/** The `bouncers` projection in the accounts DB (migration 0003), one statement per call. */
export function dbBouncerProjection(db: AccountsDb): BouncerProjectionStore {
  return {
    async upsert(row) {
      // owner_id only when the label names a user (the FK would refuse anything else); the
      // ON CONFLICT guard keeps a later CR's row from a late event of an earlier one.
      await db.execute(sql`
        INSERT INTO bouncers AS b
          (namespace, name, uid, owner_id, soju_username, created_at, observed_at, resource,
           resource_version)
        VALUES (
          ${row.namespace}, ${row.name}, ${row.uid},
          (SELECT u.id FROM users u WHERE u.id = ${row.ownerId}::uuid),
          ${row.sojuUsername}, ${row.createdAt.toISOString()}::timestamptz, now(),
          ${JSON.stringify(row.resource)}::jsonb, ${row.resourceVersion}
        )
        ON CONFLICT (namespace, name) DO UPDATE SET
          uid = excluded.uid,
          owner_id = excluded.owner_id,
          soju_username = excluded.soju_username,
          created_at = CASE WHEN b.uid = excluded.uid THEN b.created_at ELSE excluded.created_at END,
          suspended_at = CASE WHEN b.uid = excluded.uid THEN b.suspended_at END,
          suspended_reason = CASE WHEN b.uid = excluded.uid THEN b.suspended_reason END,
          soju_disabled = CASE WHEN b.uid = excluded.uid THEN b.soju_disabled END,
          observed_at = now(),
          resource = excluded.resource,
          resource_version = excluded.resource_version
        WHERE (b.uid = excluded.uid OR b.created_at <= excluded.created_at)
          AND (b.uid, b.owner_id, b.soju_username, b.resource_version)
            IS DISTINCT FROM
            (excluded.uid, excluded.owner_id, excluded.soju_username, excluded.resource_version)
      `);
    },
    async remove(namespace, name, uid) {
      await db.execute(
        sql`DELETE FROM bouncers WHERE namespace = ${namespace} AND name = ${name} AND uid = ${uid}`,
      );
    },
    async removeAllExcept(namespace, names, graceS) {
      const result = await db.execute(sql`
        DELETE FROM bouncers
        WHERE namespace = ${namespace}
          AND NOT (name = ANY(${sql.param([...names])}::text[]))
          AND observed_at < now() - make_interval(secs => ${graceS})
      `);
      return result.rowCount ?? 0;
    },
    async heartbeat(replica) {
      await db.execute(sql`
        INSERT INTO projection_heartbeats (replica, synced_at) VALUES (${replica}, now())
        ON CONFLICT (replica) DO UPDATE SET synced_at = now()
      `);
    },
  };
}
