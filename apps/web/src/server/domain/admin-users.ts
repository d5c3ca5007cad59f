import { and, eq, isNull, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { LABEL_OWNER, type SojuBouncer } from "@irc-now/k8s";
import { auditTarget as bouncerAuditTarget } from "./admin";
import { isFresh, projectionSyncedAt } from "./projection-reads";
import { outboxAuditTarget, STUCK_AGE_S, STUCK_ATTEMPTS } from "./admin-outbox";
import type { DomainContext } from "./context";
import { DomainError } from "./errors";
import { toViews, type BouncerPhase, type UpstreamSummary, type AttemptSummary } from "./status";

// The admin console's users: who they are, their plan and billing, their bouncers, what is still
// owed to Keycloak and where their account deletion stands.

const DAY_MS = 86_400_000;

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const toDateOrNull = (v: unknown): Date | null =>
  v === null || v === undefined ? null : toDate(v);

/** The audit target of everything done to a user as a whole (the deletion request's too). */
export const userAuditTarget = (userId: string) => `user/${userId}`;

export interface AdminUserRow {
  id: string;
  username: string;
  email: string | null;
  plan: "free" | "pro";
  subscriptionStatus: string | null;
  bouncers: number;
  suspended: number;
  lastLoginAt: Date | null;
  createdAt: Date;
  /** Set while an account deletion is under way: the step it is at. */
  pendingDeletion: { step: string; requestedAt: Date } | null;
}

/** `LIKE` pattern for "starts with": the search's own `%`, `_` and `\` are literal. */
const prefixPattern = (search: string) => `${search.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`;

/** Users by username, filtered by a username or email prefix, one page at a time. */
export async function listUsers(
  ctx: Pick<DomainContext, "db" | "namespace">,
  input: { search?: string; page: number; pageSize: number },
): Promise<{ rows: AdminUserRow[]; total: number }> {
  const search = input.search?.trim() ?? "";
  const where = search
    ? sql`WHERE u.username LIKE ${prefixPattern(search)} OR lower(u.email) LIKE ${prefixPattern(search)}`
    : sql``;
  const [{ rows }, { rows: totals }] = await Promise.all([
    ctx.db.execute<Record<string, unknown>>(sql`
      SELECT u.id, u.username, u.email, u.plan, u.stripe_subscription_status,
             u.last_login_at, u.created_at,
             coalesce(b.total, 0)::int AS bouncers, coalesce(b.suspended, 0)::int AS suspended,
             d.step AS deletion_step, d.requested_at AS deletion_requested_at
        FROM users u
        LEFT JOIN (SELECT owner_id, count(*) AS total,
                          count(*) FILTER (WHERE suspended_at IS NOT NULL) AS suspended
                     FROM bouncers WHERE namespace = ${ctx.namespace}
                    GROUP BY owner_id) b ON b.owner_id = u.id
        LEFT JOIN account_deletions d ON d.user_id = u.id AND d.completed_at IS NULL
        ${where}
       ORDER BY u.username
       LIMIT ${input.pageSize} OFFSET ${(input.page - 1) * input.pageSize}`),
    ctx.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM users u ${where}`),
  ]);
  return {
    total: Number(totals[0]?.n ?? 0),
    rows: rows.map((r) => ({
      id: String(r.id),
      username: String(r.username),
      email: (r.email as string | null) ?? null,
      plan: r.plan === "pro" ? "pro" : "free",
      subscriptionStatus: (r.stripe_subscription_status as string | null) ?? null,
      bouncers: Number(r.bouncers),
      suspended: Number(r.suspended),
      lastLoginAt: toDateOrNull(r.last_login_at),
      createdAt: toDate(r.created_at),
      pendingDeletion: r.deletion_step
        ? { step: String(r.deletion_step), requestedAt: toDate(r.deletion_requested_at) }
        : null,
    })),
  };
}

/** Which Stripe dashboard a customer id belongs to, from the secret key's prefix only. */
export type StripeMode = "test" | "live";

export function stripeModeOfKey(secretKey: string | undefined): StripeMode {
  return secretKey && /^(sk|rk)_test_/.test(secretKey) ? "test" : "live";
}

/** The customer's page in the Stripe dashboard (test-mode customers live under `/test`). */
export function stripeCustomerUrl(customerId: string, mode: StripeMode): string {
  const base =
    mode === "test" ? "https://dashboard.stripe.com/test" : "https://dashboard.stripe.com";
  return `${base}/customers/${encodeURIComponent(customerId)}`;
}

export interface AdminUserBouncer {
  name: string;
  phase: BouncerPhase;
  ready: boolean;
  configured: boolean;
  upstream: UpstreamSummary | null;
  lastAttempt: AttemptSummary | null;
  createdAt: string | null;
  suspendedAt: Date | null;
  suspendedReason: string | null;
  /** What the worker last applied to soju: true disabled, false enabled, null never touched. */
  sojuDisabled: boolean | null;
}

/**
 * The user's bouncers with their setup and upstream state, read as the dashboard reads them:
 * from the projection while a worker keeps it fresh, else from Kubernetes. Suspension is the
 * projection's either way (it is where the worker records it).
 */
async function bouncersOf(ctx: DomainContext, userId: string): Promise<AdminUserBouncer[]> {
  const rows = await ctx.db
    .select()
    .from(accounts.bouncers)
    .where(
      and(eq(accounts.bouncers.namespace, ctx.namespace), eq(accounts.bouncers.ownerId, userId)),
    )
    .orderBy(accounts.bouncers.name);
  let crs: SojuBouncer[];
  if (rows.every((r) => r.resource) && isFresh(await projectionSyncedAt(ctx.db))) {
    crs = rows.map((r) => r.resource as unknown as SojuBouncer);
  } else {
    const { items } = await ctx.bouncers.listByOwner(userId);
    crs = items
      .filter((b) => b.metadata.labels?.[LABEL_OWNER] === userId)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }
  const views = await toViews(ctx, crs);
  const projection = new Map(rows.map((r) => [r.name, r]));
  return views.map((v) => {
    const row = projection.get(v.name);
    return {
      name: v.name,
      phase: v.phase,
      ready: v.ready,
      configured: v.configured,
      upstream: v.upstream,
      lastAttempt: v.lastAttempt,
      createdAt: v.createdAt,
      suspendedAt: row?.suspendedAt ?? null,
      suspendedReason: row?.suspendedReason ?? null,
      sojuDisabled: row?.sojuDisabled ?? null,
    };
  });
}

export interface OutboxState {
  pending: number;
  held: boolean;
  stuck: boolean;
  attempts: number;
  lastError: string | null;
  oldestAt: Date | null;
  nextAttemptAt: Date | null;
}

async function outboxOf(ctx: Pick<DomainContext, "db">, userId: string): Promise<OutboxState> {
  const { rows } = await ctx.db.execute<Record<string, unknown>>(sql`
    SELECT count(*)::int AS pending,
           coalesce(max(attempts), 0)::int AS attempts,
           (array_agg(last_error ORDER BY last_attempt_at DESC NULLS LAST))[1] AS last_error,
           min(created_at) AS oldest_at,
           coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age_s,
           coalesce(bool_or(next_attempt_at = 'infinity'), false) AS held,
           min(next_attempt_at) FILTER (WHERE isfinite(next_attempt_at)) AS next_attempt_at
      FROM keycloak_outbox
     WHERE user_id = ${userId} AND delivered_at IS NULL`);
  const r = rows[0] ?? {};
  const pending = Number(r.pending ?? 0);
  const held = r.held === true;
  const attempts = Number(r.attempts ?? 0);
  return {
    pending,
    held,
    // The outbox page's rule, so a user listed there is "stuck" here too.
    stuck: pending > 0 && (held || attempts >= STUCK_ATTEMPTS || Number(r.age_s) > STUCK_AGE_S),
    attempts,
    lastError: (r.last_error as string | null) ?? null,
    oldestAt: toDateOrNull(r.oldest_at),
    nextAttemptAt: held ? null : toDateOrNull(r.next_attempt_at),
  };
}

/** A user's page in the admin console. */
export async function userDetail(
  ctx: DomainContext,
  username: string,
  options: { graceDays: number; stripeMode: StripeMode },
) {
  const [user] = await ctx.db
    .select()
    .from(accounts.users)
    .where(eq(accounts.users.username, username));
  if (!user) throw new DomainError("NOT_FOUND", `There is no user named "${username}".`);

  const [bouncers, outbox, [deletion], events] = await Promise.all([
    bouncersOf(ctx, user.id),
    outboxOf(ctx, user.id),
    ctx.db
      .select()
      .from(accounts.accountDeletions)
      .where(eq(accounts.accountDeletions.userId, user.id)),
    ctx.db
      .select({
        eventId: accounts.processedStripeEvents.eventId,
        type: accounts.processedStripeEvents.type,
        receivedAt: accounts.processedStripeEvents.receivedAt,
        outcome: accounts.processedStripeEvents.outcome,
      })
      .from(accounts.processedStripeEvents)
      .where(eq(accounts.processedStripeEvents.userId, user.id))
      .orderBy(
        sql`${accounts.processedStripeEvents.receivedAt} DESC`,
        sql`${accounts.processedStripeEvents.eventId} DESC`,
      )
      .limit(100),
  ]);

  // Audit entries about this user: as a whole, their Keycloak pushes, their bouncers, and
  // entries whose details name them (adoptions of an ergo account for them).
  const bouncerTargets = bouncers.map((b) => bouncerAuditTarget(ctx.namespace, b.name));
  const { rows: auditRows } = await ctx.db.execute<Record<string, unknown>>(sql`
    SELECT id, actor_user_id, actor_username, action, target, reason, details, created_at
      FROM admin_audit_log
     WHERE target IN (${userAuditTarget(user.id)}, ${outboxAuditTarget(user.id)}
                      ${
                        bouncerTargets.length
                          ? sql`, ${sql.join(
                              bouncerTargets.map((t) => sql`${t}`),
                              sql`, `,
                            )}`
                          : sql``
                      })
        OR actor_user_id = ${user.id}
        OR details->>'ownerUserId' = ${user.id}
        OR details->>'userId' = ${user.id}
     ORDER BY created_at DESC, id DESC
     LIMIT 100`);

  const status = user.stripeSubscriptionStatus;
  return {
    user: {
      id: user.id,
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      keycloakSubject: user.keycloakSubject,
      createdAt: user.createdAt,
      lastLoginAt: user.lastLoginAt,
      loginCount: user.loginCount,
      contentAutoExpire: user.contentAutoExpire,
    },
    billing: {
      plan: user.plan,
      status,
      pastDueSince: user.pastDueSince,
      graceEndsAt:
        status === "past_due" && user.pastDueSince
          ? new Date(user.pastDueSince.getTime() + options.graceDays * DAY_MS)
          : null,
      cancelAtPeriodEnd: user.subscriptionCancelAtPeriodEnd,
      periodEnd: user.subscriptionPeriodEnd,
      customerId: user.stripeCustomerId,
      customerUrl: user.stripeCustomerId
        ? stripeCustomerUrl(user.stripeCustomerId, options.stripeMode)
        : null,
      subscriptionId: user.stripeSubscriptionId,
      events,
    },
    bouncers,
    outbox,
    deletion: deletion
      ? {
          id: deletion.id,
          step: deletion.step,
          requestedAt: deletion.requestedAt,
          updatedAt: deletion.updatedAt,
          completedAt: deletion.completedAt,
          attempts: deletion.attempts,
          lastError: deletion.lastError,
          nextAttemptAt: deletion.nextAttemptAt,
        }
      : null,
    audit: auditRows.map((r) => ({
      id: Number(r.id),
      actorUserId: (r.actor_user_id as string | null) ?? null,
      actorUsername: String(r.actor_username),
      action: String(r.action),
      target: String(r.target),
      reason: (r.reason as string | null) ?? null,
      details: (r.details as Record<string, unknown> | null) ?? {},
      createdAt: toDate(r.created_at),
    })),
  };
}

/**
 * Admin "Retry now" on a pending account deletion: due now, the worker's leader woken at commit,
 * and the audit log records who and where the deletion stood. Attempts are kept (the backoff and
 * the history go on from there).
 */
export async function retryAccountDeletion(
  ctx: Pick<DomainContext, "db">,
  admin: { id: string; username: string },
  userId: string,
) {
  const d = accounts.accountDeletions;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(d)
      .where(and(eq(d.userId, userId), isNull(d.completedAt)))
      .for("update");
    if (!row)
      throw new DomainError(
        "NOT_FOUND",
        "No account deletion is pending for this user (it finished meanwhile, or was never asked for).",
      );
    await tx
      .update(d)
      .set({ nextAttemptAt: sql`now()` })
      .where(eq(d.id, row.id));
    // The insert trigger wakes the worker for new rows; an update does not, so say it here.
    await tx.execute(sql`SELECT pg_notify('irc_now_account_deletions', '')`);
    const [entry] = await tx
      .insert(accounts.adminAuditLog)
      .values({
        actorUserId: admin.id,
        actorUsername: admin.username,
        action: "account_deletion.retry",
        target: userAuditTarget(userId),
        reason: null,
        details: {
          username: row.username,
          deletionId: row.id,
          step: row.step,
          attempts: row.attempts,
          lastError: row.lastError,
        },
      })
      .returning();
    return entry!;
  });
}
