import { eq, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { accounts, type AccountsDb } from "@irc-now/db";
import { LABEL_OWNER, projectedResource, type SojuBouncer } from "@irc-now/k8s";
import { setupRecordsFromRows, type SetupRecordRow, type SetupRecords } from "./status";

/**
 * The dashboard's read path (issue 17): a user's bouncers come from the accounts DB's `bouncers`
 * projection, which every worker replica keeps from its SojuBouncer watch, instead of a
 * Kubernetes list per request. Kubernetes stays the authority for writes (create, delete, the
 * quota check) and the fallback for reads whenever the projection cannot be trusted: no worker
 * replica has confirmed its watch within {@link STALE_AFTER_MS}.
 */

/** Workers confirm every 30 s; two missed beats and the projection is not trusted. */
export const STALE_AFTER_MS = 75_000;
/** How long one process trusts its last freshness check (one cheap query per 5 s at most). */
const FRESHNESS_CACHE_MS = 5_000;

let freshness: { checkedAt: number; syncedAt: Date | null } | undefined;

/** The newest worker heartbeat, cached for a few seconds per process. */
export async function projectionSyncedAt(db: AccountsDb, now = Date.now()): Promise<Date | null> {
  if (freshness && now - freshness.checkedAt < FRESHNESS_CACHE_MS) return freshness.syncedAt;
  const { rows } = await db.execute<{ synced_at: string | Date | null }>(
    sql`SELECT max(synced_at) AS synced_at FROM projection_heartbeats`,
  );
  const value = rows[0]?.synced_at;
  const syncedAt = value ? new Date(value) : null;
  freshness = { checkedAt: now, syncedAt };
  return syncedAt;
}

/** Forget the cached freshness (tests move the heartbeat between requests). */
export function forgetProjectionFreshness(): void {
  freshness = undefined;
}

export function isFresh(syncedAt: Date | null, now = Date.now()): boolean {
  return syncedAt !== null && now - syncedAt.getTime() <= STALE_AFTER_MS;
}

/**
 * The owner's bouncers as the projection last saw them, as SojuBouncer objects (what the views
 * are built from either way). Rows without a stored resource (written before migration 0006)
 * make the answer null: the caller then asks Kubernetes.
 */
export async function projectedBouncersOf(
  db: AccountsDb,
  namespace: string,
  ownerId: string,
): Promise<SojuBouncer[] | null> {
  return (await projectedBouncersWithRecordsOf(db, namespace, ownerId))?.bouncers ?? null;
}

/** A projection row's suspension (`bouncers.suspended_at`), with the uid it was set on. */
export interface ProjectedSuspension {
  uid: string;
  since: Date;
  reason: string | null;
}

export interface ProjectedBouncers {
  bouncers: SojuBouncer[];
  records: SetupRecords;
  /** By bouncer name: only suspended rows. */
  suspensions: Map<string, ProjectedSuspension>;
}

type ProjectedRow = SetupRecordRow & {
  resource: SojuBouncer | null;
  name: string;
  row_uid: string;
  suspended_at: string | Date | null;
  suspended_reason: string | null;
};

/**
 * The owner's projection rows with each one's latest setup attempt and upstream state (as
 * `loadSetupRecords` selects them, keyed by the stored CR's uid and name) and its suspension:
 * the one SQL both read paths use (rows for {@link projectedBouncersWithRecordsOf}, a JSON array
 * inside {@link userWithProjection}). Ownership is in SQL: `owner_id` = the given owner.
 */
const projectedRows = (namespace: SQLWrapper, ownerId: SQLWrapper): SQL => sql`
  SELECT b.resource, b.name, b.uid AS row_uid, b.suspended_at, b.suspended_reason,
         r.uid,
         a.attempt_no, a.outcome, a.step_reached, a.error, a.started_at, a.finished_at,
         u.state, u.account, u.detail, u.checked_at
  FROM bouncers b
  CROSS JOIN LATERAL (
    SELECT b.resource #>> '{metadata,uid}' AS uid, b.resource #>> '{metadata,name}' AS name
  ) r
  LEFT JOIN LATERAL (
    SELECT attempt_no, outcome, step_reached, error, started_at, finished_at
    FROM bouncer_setup_attempts
    WHERE bouncer_uid = r.uid AND namespace = ${namespace}
    ORDER BY attempt_no DESC
    LIMIT 1
  ) a ON true
  LEFT JOIN bouncer_upstream_states u
    ON u.namespace = ${namespace} AND u.bouncer = r.name AND u.bouncer_uid = r.uid
  WHERE b.namespace = ${namespace} AND b.owner_id = ${ownerId}`;

// A named statement: parsed and planned once per pooled connection, not on every dashboard
// refresh. $1 = namespace, $2 = owner id.
const PROJECTED_WITH_RECORDS = new PgDialect().sqlToQuery(
  sql`SELECT * FROM (${projectedRows(sql.raw("$1"), sql.raw("$2"))}) p ORDER BY p.name`,
).sql;

/**
 * {@link projectedBouncersOf} with everything the owner's views need read in the same query:
 * each bouncer's latest setup attempt and upstream state (as `loadSetupRecords` selects them,
 * keyed by the stored CR's uid and name) and its suspension. One round trip instead of three
 * on the dashboard's read path: the web's per-query CPU was most of what it spent (issue 17).
 */
export async function projectedBouncersWithRecordsOf(
  db: AccountsDb,
  namespace: string,
  ownerId: string,
): Promise<ProjectedBouncers | null> {
  const { rows } = await db.$client.query<ProjectedRow>({
    name: "projected_bouncers_with_records",
    text: PROJECTED_WITH_RECORDS,
    values: [namespace, ownerId],
  });
  return projectedFromRows(rows, ownerId);
}

function projectedFromRows(rows: ProjectedRow[], ownerId: string): ProjectedBouncers | null {
  if (rows.some((r) => r.resource === null)) return null;
  // Defence in depth, as on the Kubernetes path: the label must name the owner too.
  const mine = rows.filter((r) => r.resource!.metadata?.labels?.[LABEL_OWNER] === ownerId);
  const suspensions = new Map<string, ProjectedSuspension>();
  for (const r of mine) {
    if (r.suspended_at === null) continue;
    suspensions.set(r.name, {
      uid: r.row_uid,
      since: new Date(r.suspended_at),
      reason: r.suspended_reason,
    });
  }
  return {
    bouncers: mine.map((r) => r.resource!),
    records: setupRecordsFromRows(mine),
    suspensions,
  };
}

/** The session's user row with the newest worker heartbeat and the user's projection rows. */
export interface UserWithProjection {
  /** Null: no such user (deleted). */
  user: accounts.User | null;
  syncedAt: Date | null;
  /** Null when a row has no stored resource (the caller asks Kubernetes). */
  projected: ProjectedBouncers | null;
}

// The projection rows as one JSON array on the user's row: PostgreSQL sends one row, and the
// web parses one JSON value instead of 20 rows of 16 columns (timestamps arrive as ISO text,
// as the raw queries' do). Ownership is in SQL: owner_id = the session's user id.
const prepareUserWithProjection = (db: AccountsDb) =>
  db
    .select({
      user: accounts.users,
      syncedAt: sql<string | null>`(SELECT max(synced_at) FROM projection_heartbeats)`,
      rows: sql<ProjectedRow[]>`(
        SELECT coalesce(json_agg(p ORDER BY p.name), '[]'::json) FROM (${projectedRows(
          sql.placeholder("namespace"),
          sql.placeholder("id"),
        )}) p)`,
    })
    .from(accounts.users)
    .where(eq(accounts.users.id, sql.placeholder("id")))
    .prepare("user_with_projection");

const userWithProjectionStatements = new WeakMap<
  AccountsDb,
  ReturnType<typeof prepareUserWithProjection>
>();

/**
 * One round trip for the dashboard's refresh (issue 17): the session's user row (for the
 * caller's session checks: existence, sign-out cutoff, plan), the projection's freshness and
 * the user's projected bouncers with their setup records and suspensions. The caller checks the
 * user row before it builds or returns anything from the rest.
 */
export async function userWithProjection(
  db: AccountsDb,
  namespace: string,
  userId: string,
): Promise<UserWithProjection> {
  let statement = userWithProjectionStatements.get(db);
  if (!statement) userWithProjectionStatements.set(db, (statement = prepareUserWithProjection(db)));
  const [row] = await statement.execute({ id: userId, namespace });
  if (!row) return { user: null, syncedAt: null, projected: null };
  return {
    user: row.user,
    syncedAt: row.syncedAt === null ? null : new Date(row.syncedAt),
    projected: projectedFromRows(row.rows, userId),
  };
}

/**
 * Read-your-writes after create: the web writes the CR it just created, so the same browser
 * sees it before the worker's watch does. Only a row of another uid (a deleted namesake not yet
 * removed) is replaced: a row of the same uid is the watch's, and newer.
 */
export async function recordCreated(
  db: AccountsDb,
  namespace: string,
  ownerId: string,
  created: SojuBouncer,
): Promise<void> {
  if (!created.metadata.uid) return;
  const resource = JSON.stringify(projectedResource(created));
  await db.execute(sql`
    INSERT INTO bouncers (namespace, name, uid, owner_id, soju_username, resource, resource_version)
    VALUES (${namespace}, ${created.metadata.name}, ${created.metadata.uid}, ${ownerId},
            ${created.spec.username}, ${resource}::jsonb, ${created.metadata.resourceVersion ?? null})
    ON CONFLICT (namespace, name) DO UPDATE SET
      uid = EXCLUDED.uid, owner_id = EXCLUDED.owner_id, soju_username = EXCLUDED.soju_username,
      resource = EXCLUDED.resource, resource_version = EXCLUDED.resource_version,
      suspended_at = NULL, suspended_reason = NULL,
      created_at = now(), observed_at = now()
    WHERE bouncers.uid <> EXCLUDED.uid`);
}

/**
 * Read-your-writes after delete: the row shows the deletion at once (the dashboard says
 * "deleting"); the worker's watch removes it when the CR is gone.
 */
export async function recordDeleting(
  db: AccountsDb,
  namespace: string,
  name: string,
  uid: string,
): Promise<void> {
  await db.execute(sql`
    UPDATE bouncers SET
      resource = jsonb_set(resource, '{metadata,deletionTimestamp}', to_jsonb(${new Date().toISOString()}::text)),
      observed_at = now()
    WHERE namespace = ${namespace} AND name = ${name} AND uid = ${uid} AND resource IS NOT NULL
      AND resource #> '{metadata,deletionTimestamp}' IS NULL`);
}
