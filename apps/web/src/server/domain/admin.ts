import { and, count, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import type { DomainContext } from "./context";
import { DomainError } from "./errors";
import { toViews, type BouncerPhase, type BouncerView } from "./status";

export interface AdminBouncerRow extends BouncerView {
  owner: { id: string; username: string; email: string | null } | null;
}

export type AdminSort = "name" | "owner" | "phase" | "created" | "lastAttempt";

export interface AdminListInput {
  search?: string;
  phase?: BouncerPhase;
  upstream?: "authenticated" | "unauthenticated" | "disconnected" | "unknown" | "none";
  outcome?: "running" | "succeeded" | "failed" | "none";
  sort: AdminSort;
  direction: "asc" | "desc";
  page: number;
  pageSize: number;
}

const phaseOrder: Record<BouncerPhase, number> = {
  provisioning: 0,
  ready: 1,
  configured: 2,
  authenticated: 3,
  deleting: 4,
};

export async function listAllBouncers(
  ctx: DomainContext,
  input: AdminListInput,
): Promise<{ rows: AdminBouncerRow[]; total: number }> {
  const { items } = await ctx.bouncers.list();
  const views = await toViews(ctx, items);
  const ownerIds = [
    ...new Set(
      views
        .map((v) => v.ownerId)
        .filter((id): id is string => id !== null && /^[0-9a-f-]{36}$/.test(id)),
    ),
  ];
  const owners = ownerIds.length
    ? await ctx.db
        .select({
          id: accounts.users.id,
          username: accounts.users.username,
          email: accounts.users.email,
        })
        .from(accounts.users)
        .where(inArray(accounts.users.id, ownerIds))
    : [];
  const ownerById = new Map(owners.map((o) => [o.id, o]));
  let rows: AdminBouncerRow[] = views.map((v) => ({
    ...v,
    owner: (v.ownerId && ownerById.get(v.ownerId)) || null,
  }));

  const q = input.search?.trim().toLowerCase();
  if (q) {
    rows = rows.filter(
      (r) =>
        r.name.includes(q) ||
        r.username.toLowerCase().includes(q) ||
        r.owner?.username.toLowerCase().includes(q) ||
        r.owner?.email?.toLowerCase().includes(q),
    );
  }
  if (input.phase) rows = rows.filter((r) => r.phase === input.phase);
  if (input.upstream)
    rows = rows.filter((r) =>
      input.upstream === "none" ? r.upstream === null : r.upstream?.state === input.upstream,
    );
  if (input.outcome)
    rows = rows.filter((r) =>
      input.outcome === "none" ? r.lastAttempt === null : r.lastAttempt?.outcome === input.outcome,
    );

  const key = (r: AdminBouncerRow): string | number => {
    switch (input.sort) {
      case "owner":
        return r.owner?.username ?? r.username;
      case "phase":
        return phaseOrder[r.phase];
      case "created":
        return r.createdAt ?? "";
      case "lastAttempt":
        return r.lastAttempt?.startedAt.getTime() ?? 0;
      default:
        return r.name;
    }
  };
  const dir = input.direction === "asc" ? 1 : -1;
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return (ka < kb ? -1 : ka > kb ? 1 : a.name.localeCompare(b.name)) * dir;
  });
  const total = rows.length;
  const start = (input.page - 1) * input.pageSize;
  return { rows: rows.slice(start, start + input.pageSize), total };
}

export async function bouncerDetail(ctx: DomainContext, name: string) {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer) throw new DomainError("NOT_FOUND", `There is no bouncer named "${name}".`);
  const [view] = await toViews(ctx, [bouncer]);
  const attempts = await ctx.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(
      and(
        eq(accounts.bouncerSetupAttempts.namespace, ctx.namespace),
        eq(accounts.bouncerSetupAttempts.bouncer, name),
      ),
    )
    .orderBy(desc(accounts.bouncerSetupAttempts.attemptNo))
    .limit(100);
  const audit = await ctx.db
    .select()
    .from(accounts.adminAuditLog)
    .where(eq(accounts.adminAuditLog.target, auditTarget(ctx.namespace, name)))
    .orderBy(desc(accounts.adminAuditLog.createdAt))
    .limit(50);
  return { bouncer: view!, attempts, audit };
}

export const auditTarget = (namespace: string, name: string) => `sojubouncer/${namespace}/${name}`;

/**
 * Admin "retry": removes `irc.now/upstream-configured` so the worker runs setup again, and
 * records who, when and why in the audit log.
 */
export async function retryBouncerSetup(
  ctx: DomainContext,
  admin: { id: string; username: string },
  name: string,
  reason: string,
) {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer) throw new DomainError("NOT_FOUND", `There is no bouncer named "${name}".`);
  const wasConfigured = bouncer.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED] === "true";
  // Audit row and change succeed or fail together: the row is committed only after the patch.
  return ctx.db.transaction(async (tx) => {
    const [entry] = await tx
      .insert(accounts.adminAuditLog)
      .values({
        actorUserId: admin.id,
        actorUsername: admin.username,
        action: "bouncer.retry-setup",
        target: auditTarget(ctx.namespace, name),
        reason,
        details: { wasConfigured },
      })
      .returning();
    await ctx.bouncers.clearConfigured(name);
    return entry!;
  });
}

export async function auditLog(ctx: DomainContext, input: { page: number; pageSize: number }) {
  const [rows, [total]] = await Promise.all([
    ctx.db
      .select()
      .from(accounts.adminAuditLog)
      .orderBy(desc(accounts.adminAuditLog.createdAt), desc(accounts.adminAuditLog.id))
      .limit(input.pageSize)
      .offset((input.page - 1) * input.pageSize),
    ctx.db.select({ n: count() }).from(accounts.adminAuditLog),
  ]);
  return { rows, total: total?.n ?? 0 };
}

/** Chart data: bouncers by phase now, and setup outcomes per day over the last `days` days. */
export async function adminStats(ctx: DomainContext, days = 14) {
  const { items } = await ctx.bouncers.list();
  const views = await toViews(ctx, items);
  const byPhase = Object.fromEntries(
    (Object.keys(phaseOrder) as BouncerPhase[]).map((p) => [p, 0]),
  ) as Record<BouncerPhase, number>;
  for (const v of views) byPhase[v.phase] += 1;
  const since = new Date(Date.now() - days * 86_400_000);
  const day = sql<string>`to_char(date_trunc('day', ${accounts.bouncerSetupAttempts.startedAt} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`;
  const outcomes = await ctx.db
    .select({ day, outcome: accounts.bouncerSetupAttempts.outcome, n: count() })
    .from(accounts.bouncerSetupAttempts)
    .where(
      and(
        eq(accounts.bouncerSetupAttempts.namespace, ctx.namespace),
        gte(accounts.bouncerSetupAttempts.startedAt, since),
      ),
    )
    .groupBy(day, accounts.bouncerSetupAttempts.outcome)
    .orderBy(day);
  const perDay = new Map<
    string,
    { day: string; succeeded: number; failed: number; running: number }
  >();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
    perDay.set(d, { day: d, succeeded: 0, failed: 0, running: 0 });
  }
  for (const o of outcomes) {
    const entry = perDay.get(o.day);
    if (entry) entry[o.outcome] += o.n;
  }
  return { byPhase, outcomesByDay: [...perDay.values()] };
}
