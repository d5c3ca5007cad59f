import { and, count, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { unusableAccountName } from "@irc-now/ergo";
import { ANNOTATION_UPSTREAM_CONFIGURED, describeKubeError, type SojuBouncer } from "@irc-now/k8s";
import type { DomainContext } from "./context";
import { DomainError } from "./errors";
import { toViews, type BouncerPhase, type BouncerView, type SetupOutcome } from "./status";

export interface AdminBouncerRow extends BouncerView {
  owner: { id: string; username: string; email: string | null } | null;
}

export type AdminSort = "name" | "owner" | "phase" | "created" | "lastAttempt";

export interface AdminListInput {
  search?: string;
  phase?: BouncerPhase;
  upstream?: "authenticated" | "unauthenticated" | "disconnected" | "unknown" | "none";
  outcome?: SetupOutcome | "none";
  sort: AdminSort;
  direction: "asc" | "desc";
  page: number;
  pageSize: number;
}

const phaseOrder: Record<BouncerPhase, number> = {
  provisioning: 0,
  ready: 1,
  needs_admin: 2,
  configured: 3,
  authenticated: 4,
  deleting: 5,
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

/** The portal's record of an ergo account (`ergo_accounts`), with its owner's username. */
export interface ErgoAccountOwnership {
  ownerUserId: string;
  ownerUsername: string | null;
  origin: "registered" | "adopted";
  adoptedBy: string | null;
  createdAt: Date;
}

/** What admins see of a bouncer's ergo account, and whether "Adopt account" applies. */
export interface ErgoAccountView {
  /** spec.username as ergo compares it (lowercase). */
  account: string;
  /** The bouncer's owner (its `irc.now/owner` label), when that is a portal user. */
  owner: { id: string; username: string } | null;
  ownership: ErgoAccountOwnership | null;
  /** The portal owns the account for this bouncer's owner (the worker may reset it). */
  ownedByBouncerOwner: boolean;
  /** Adopt is offered (`why` null), or why not, in words for admins. */
  adopt: { offered: boolean; why: string | null; kind: "PRECONDITION_FAILED" | "CONFLICT" | null };
}

async function ergoAccountOf(
  ctx: DomainContext,
  db: Pick<DomainContext["db"], "select">,
  bouncer: SojuBouncer,
  view: BouncerView,
): Promise<ErgoAccountView> {
  const account = bouncer.spec.username.toLowerCase();
  const [row] = await db
    .select({
      ownerUserId: accounts.ergoAccounts.ownerUserId,
      ownerUsername: accounts.users.username,
      origin: accounts.ergoAccounts.origin,
      adoptedBy: accounts.ergoAccounts.adoptedBy,
      createdAt: accounts.ergoAccounts.createdAt,
    })
    .from(accounts.ergoAccounts)
    .leftJoin(accounts.users, eq(accounts.users.id, accounts.ergoAccounts.ownerUserId))
    .where(eq(accounts.ergoAccounts.account, account));
  const ownership = row ?? null;
  const ownerId = view.ownerId && /^[0-9a-f-]{36}$/.test(view.ownerId) ? view.ownerId : null;
  const [owner] = ownerId
    ? await db
        .select({ id: accounts.users.id, username: accounts.users.username })
        .from(accounts.users)
        .where(eq(accounts.users.id, ownerId))
    : [];
  const ownedByBouncerOwner = ownership !== null && ownership.ownerUserId === ownerId;
  const base = { account, owner: owner ?? null, ownership, ownedByBouncerOwner };
  const no = (why: string, kind: "PRECONDITION_FAILED" | "CONFLICT" = "PRECONDITION_FAILED") => ({
    ...base,
    adopt: { offered: false, why, kind },
  });
  if (view.phase !== "needs_admin")
    return no(`Bouncer "${view.name}" is not waiting for an admin, so there is nothing to adopt.`);
  if (view.lastAttempt?.step !== "ensure_ergo_account")
    return no(
      `Bouncer "${view.name}" waits for an admin for another reason than its ergo account: see its last attempt.`,
    );
  const unusable = unusableAccountName(account, { adminNick: ctx.ergoAdminNick });
  if (unusable)
    return no(
      `The account "${account}" can never be set up by the portal (${unusable.message}); adopting it would not help. The user needs another username.`,
    );
  if (ownedByBouncerOwner)
    return no(
      `The portal already owns the ergo account "${account}" for this bouncer's owner: use Retry setup.`,
    );
  if (ownership)
    return no(
      `The ergo account "${account}" already belongs to portal user ${ownership.ownerUsername ?? ownership.ownerUserId}; it cannot be adopted for another user.`,
      "CONFLICT",
    );
  if (!ownerId)
    return no(
      `Bouncer "${view.name}" has no owner label, so there is no user to adopt the account for.`,
    );
  if (!owner) return no(`The owner of bouncer "${view.name}" is not a portal user any more.`);
  return { ...base, adopt: { offered: true, why: null, kind: null } };
}

export async function bouncerDetail(ctx: DomainContext, name: string) {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer) throw new DomainError("NOT_FOUND", `There is no bouncer named "${name}".`);
  const [view] = await toViews(ctx, [bouncer]);
  // This bouncer's own history: rows of an earlier bouncer of the same name have another uid.
  const attempts = await ctx.db
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(
      and(
        eq(accounts.bouncerSetupAttempts.namespace, ctx.namespace),
        eq(accounts.bouncerSetupAttempts.bouncerUid, bouncer.metadata.uid ?? ""),
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
  const ergoAccount = await ergoAccountOf(ctx, ctx.db, bouncer, view!);
  return {
    bouncer: view!,
    attempts,
    // Audit entries name their bouncer's uid (since adoption): older namesakes are labelled.
    audit: audit.map((entry) => ({
      ...entry,
      previousBouncer:
        typeof entry.details.bouncerUid === "string" &&
        entry.details.bouncerUid !== bouncer.metadata.uid,
    })),
    ergoAccount,
  };
}

export const auditTarget = (namespace: string, name: string) => `sojubouncer/${namespace}/${name}`;

/**
 * Admin "Adopt account": the bouncer waits for an admin because its ergo account exists and the
 * portal does not own it. In one transaction, the account becomes the bouncer owner's
 * (`ergo_accounts`, origin `adopted`) and the audit log records it; after the commit, setup is
 * retried exactly as "Retry setup" does, so the worker resets the account's password to the
 * user's irc.now credential. (After, not inside: a worker that reacted to the annotation before
 * the commit would find the account still not owned.)
 */
export async function adoptErgoAccount(
  ctx: DomainContext,
  admin: { id: string; username: string },
  name: string,
  reason: string,
) {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer) throw new DomainError("NOT_FOUND", `There is no bouncer named "${name}".`);
  const [view] = await toViews(ctx, [bouncer]);
  const entry = await ctx.db.transaction(async (tx) => {
    const check = await ergoAccountOf(ctx, tx, bouncer, view!);
    if (!check.adopt.offered)
      throw new DomainError(check.adopt.kind ?? "PRECONDITION_FAILED", check.adopt.why ?? "");
    const ownerUserId = view!.ownerId!;
    const [inserted] = await tx
      .insert(accounts.ergoAccounts)
      .values({ account: check.account, ownerUserId, origin: "adopted", adoptedBy: admin.username })
      .onConflictDoNothing({ target: accounts.ergoAccounts.account })
      .returning();
    if (!inserted) {
      // Claimed in the meantime (another admin, or the worker registering it for its owner).
      const [now] = await tx
        .select({ owner: accounts.users.username, ownerId: accounts.ergoAccounts.ownerUserId })
        .from(accounts.ergoAccounts)
        .leftJoin(accounts.users, eq(accounts.users.id, accounts.ergoAccounts.ownerUserId))
        .where(eq(accounts.ergoAccounts.account, check.account));
      throw new DomainError(
        "CONFLICT",
        now?.ownerId === ownerUserId
          ? `The ergo account "${check.account}" was just claimed for this bouncer's owner: use Retry setup if it stays waiting.`
          : `The ergo account "${check.account}" already belongs to portal user ${now?.owner ?? now?.ownerId ?? "(unknown)"}; it cannot be adopted for another user.`,
      );
    }
    const [row] = await tx
      .insert(accounts.adminAuditLog)
      .values({
        actorUserId: admin.id,
        actorUsername: admin.username,
        action: "ergo_account.adopt",
        target: auditTarget(ctx.namespace, name),
        reason,
        details: {
          account: check.account,
          ownerUserId,
          bouncerUid: bouncer.metadata.uid ?? null,
        },
      })
      .returning();
    return row!;
  });
  try {
    await ctx.bouncers.clearConfigured(name);
  } catch (error) {
    throw new DomainError(
      "UNAVAILABLE",
      `The ergo account "${entry.details.account as string}" is adopted, but setup could not be restarted (${describeKubeError(error)}). Use Retry setup.`,
    );
  }
  return entry;
}

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
        details: { wasConfigured, bouncerUid: bouncer.metadata.uid ?? null },
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
  const perDay = new Map<string, { day: string } & Record<SetupOutcome, number>>();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
    perDay.set(d, { day: d, succeeded: 0, failed: 0, running: 0, needs_admin: 0 });
  }
  for (const o of outcomes) {
    const entry = perDay.get(o.day);
    if (entry) entry[o.outcome] += o.n;
  }
  return { byPhase, outcomesByDay: [...perDay.values()] };
}
