import { asc, eq, inArray, or } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { contentExpires } from "@irc-now/keycloak";
import { DomainError } from "./errors";

/**
 * "Export my data": everything the portal holds about a user, as they would read it. Every field
 * is picked by name (a column added later never leaks by default), and nothing secret or
 * meaningless to them is included: no app password hash or lookup id, no sealed import secret,
 * no session cutoff, Keycloak subject or Stripe ids, no raw worker error text (admins' detail),
 * no other person's name.
 */
export async function exportAccount(db: AccountsDb, userId: string, now = new Date()) {
  const [user] = await db.select().from(accounts.users).where(eq(accounts.users.id, userId));
  if (!user) throw new DomainError("NOT_FOUND", "Your account no longer exists.");

  const bouncers = await db
    .select()
    .from(accounts.bouncers)
    .where(eq(accounts.bouncers.ownerId, user.id))
    .orderBy(asc(accounts.bouncers.createdAt));
  const uids = bouncers.map((b) => b.uid);

  // Only the current bouncers' history (by uid): an earlier namesake may have been someone else's.
  const attempts =
    uids.length === 0
      ? []
      : await db
          .select()
          .from(accounts.bouncerSetupAttempts)
          .where(inArray(accounts.bouncerSetupAttempts.bouncerUid, uids))
          .orderBy(asc(accounts.bouncerSetupAttempts.id));
  const upstream =
    uids.length === 0
      ? []
      : await db
          .select()
          .from(accounts.bouncerUpstreamStates)
          .where(inArray(accounts.bouncerUpstreamStates.bouncerUid, uids));

  const appPasswords = await db
    .select()
    .from(accounts.appPasswords)
    .where(eq(accounts.appPasswords.userId, user.id))
    .orderBy(asc(accounts.appPasswords.createdAt));

  const ergoAccounts = await db
    .select()
    .from(accounts.ergoAccounts)
    .where(eq(accounts.ergoAccounts.ownerUserId, user.id));

  const jobs = await db
    .select()
    .from(accounts.importJobs)
    .where(eq(accounts.importJobs.userId, user.id))
    .orderBy(asc(accounts.importJobs.createdAt));
  const items =
    jobs.length === 0
      ? []
      : await db
          .select()
          .from(accounts.importItems)
          .where(
            inArray(
              accounts.importItems.jobId,
              jobs.map((j) => j.id),
            ),
          )
          .orderBy(asc(accounts.importItems.position));

  const outbox = await db
    .select()
    .from(accounts.keycloakOutbox)
    .where(eq(accounts.keycloakOutbox.userId, user.id))
    .orderBy(asc(accounts.keycloakOutbox.id));

  const targets = [
    `user/${user.id}`,
    ...bouncers.map((b) => `sojubouncer/${b.namespace}/${b.name}`),
  ];
  const audit = await db
    .select()
    .from(accounts.adminAuditLog)
    .where(
      or(
        eq(accounts.adminAuditLog.actorUserId, user.id),
        inArray(accounts.adminAuditLog.target, targets),
      ),
    )
    .orderBy(asc(accounts.adminAuditLog.id));

  return {
    exportedAt: now.toISOString(),
    account: {
      username: user.username,
      email: user.email,
      displayName: user.displayName,
      plan: user.plan,
      subscriptionStatus: user.stripeSubscriptionStatus,
      contentAutoExpire: user.contentAutoExpire,
      contentExpires: contentExpires(user),
      createdAt: user.createdAt,
      lastLoginAt: user.lastLoginAt,
      loginCount: user.loginCount,
    },
    bouncers: bouncers.map((b) => ({
      name: b.name,
      createdAt: b.createdAt,
      suspendedAt: b.suspendedAt,
      suspendedReason: b.suspendedReason,
      setupAttempts: attempts
        .filter((a) => a.bouncerUid === b.uid)
        .map((a) => ({
          attempt: a.attemptNo,
          stepReached: a.stepReached,
          outcome: a.outcome,
          startedAt: a.startedAt,
          finishedAt: a.finishedAt,
        })),
      upstreamLogin:
        upstream
          .filter((s) => s.bouncerUid === b.uid)
          .map((s) => ({ state: s.state, checkedAt: s.checkedAt }))[0] ?? null,
    })),
    ergoAccounts: ergoAccounts.map((e) => ({
      account: e.account,
      origin: e.origin,
      createdAt: e.createdAt,
    })),
    appPasswords: appPasswords.map((p) => ({
      label: p.label,
      bouncer: p.bouncer,
      createdAt: p.createdAt,
      lastUsedAt: p.lastUsedAt,
      expiresAt: p.expiresAt,
      revokedAt: p.revokedAt,
    })),
    imports: jobs.map((j) => ({
      state: j.state,
      bouncer: j.bouncer,
      error: j.error,
      createdAt: j.createdAt,
      startedAt: j.startedAt,
      finishedAt: j.finishedAt,
      items: items
        .filter((i) => i.jobId === j.id)
        .map((i) => ({
          kind: i.kind,
          network: i.network,
          channel: i.channel,
          selected: i.selected,
          /** What was to be applied (address, nick…); its passwords are sealed apart, never here. */
          spec: i.spec,
          state: i.state,
          detail: i.detail,
        })),
    })),
    keycloakSync: outbox.map((o) => ({
      reason: o.reason,
      createdAt: o.createdAt,
      deliveredAt: o.deliveredAt,
      attempts: o.attempts,
    })),
    auditLog: audit.map((a) => ({
      action: a.action,
      target: a.target === `user/${user.id}` ? "your account" : a.target,
      reason: a.reason,
      byYou: a.actorUserId === user.id,
      createdAt: a.createdAt,
    })),
  };
}

export type AccountExport = Awaited<ReturnType<typeof exportAccount>>;

/** The download's file name; usernames are lowercase DNS-safe, so no quoting is needed. */
export const exportFileName = (username: string) => `irc-now-${username}.json`;
