import { sql } from "drizzle-orm";
import type { AccountsDb } from "@irc-now/db";
import type { PendingSuspension, SuspensionStore } from "./ports";

/** The CR in `resource` (the projection's copy) is Ready and not being deleted. */
const READY = sql`
  resource #> '{metadata,deletionTimestamp}' IS NULL
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(resource #> '{status,conditions}') = 'array'
                     THEN resource #> '{status,conditions}' ELSE '[]'::jsonb END) c
               WHERE c->>'type' = 'Ready' AND c->>'status' = 'True')`;

/**
 * Desired against applied. `soju_disabled` null (never touched) counts as enabled: soju creates
 * users enabled, so a bouncer never suspended needs no command (and a deploy of this worker does
 * not send one to every bouncer).
 */
const DIFFERS = sql`(suspended_at IS NOT NULL) IS DISTINCT FROM coalesce(soju_disabled, false)`;

export function dbSuspensionStore(db: AccountsDb, namespace: string): SuspensionStore {
  return {
    async pending(limit) {
      const { rows } = await db.execute<{
        name: string;
        uid: string;
        soju_username: string;
        disable: boolean;
      }>(sql`
        SELECT name, uid, soju_username, suspended_at IS NOT NULL AS disable
          FROM bouncers
         WHERE namespace = ${namespace} AND ${DIFFERS}
           AND uid IS NOT NULL AND soju_username IS NOT NULL AND ${READY}
         ORDER BY coalesce(suspended_at, observed_at), name
         LIMIT ${limit}`);
      return rows.map((r): PendingSuspension => ({
        namespace,
        name: r.name,
        uid: r.uid,
        sojuUsername: r.soju_username,
        disable: r.disable,
      }));
    },

    async recordApplied(row, disabled) {
      // What soju now has, whatever the row asks for meanwhile: a flip during the command then
      // differs from it and stays pending (guarding on the desired state instead would lose a
      // flip and back: soju disabled, the row still saying enabled). Only this CR's row.
      const { rows } = await db.execute<{ current: boolean }>(sql`
        UPDATE bouncers SET soju_disabled = ${disabled}
         WHERE namespace = ${row.namespace} AND name = ${row.name} AND uid = ${row.uid}
        RETURNING (suspended_at IS NOT NULL) = ${disabled} AS current`);
      return rows[0]?.current === true;
    },

    async counts() {
      const { rows } = await db.execute<{ suspended: number; pending: number }>(sql`
        SELECT count(*) FILTER (WHERE suspended_at IS NOT NULL)::int AS suspended,
               count(*) FILTER (WHERE ${DIFFERS})::int AS pending
          FROM bouncers WHERE namespace = ${namespace}`);
      return { suspended: rows[0]?.suspended ?? 0, pending: rows[0]?.pending ?? 0 };
    },
  };
}
