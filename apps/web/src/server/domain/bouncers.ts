import { eq, sql } from "drizzle-orm";
import { reconcileSuspensions } from "@irc-now/billing";
import { accounts } from "@irc-now/db";
import { unusableAccountName } from "@irc-now/ergo";
import { describeKubeError, LABEL_OWNER, reasonOf, type SojuBouncer } from "@irc-now/k8s";
import type { Actor, DomainContext } from "./context";
import { DomainError } from "./errors";
import {
  isFresh,
  projectedBouncersWithRecordsOf,
  projectionSyncedAt,
  recordCreated,
  recordDeleting,
  type ProjectedSuspension,
  type UserWithProjection,
} from "./projection-reads";
import { toViews, type SetupRecords } from "./status";
import { toUserView, type SuspensionFacts, type UserBouncerView } from "./user-view";

const ownedBy = (b: SojuBouncer, actor: Actor) => b.metadata.labels?.[LABEL_OWNER] === actor.id;

export function quotaFor(ctx: DomainContext, plan: Actor["plan"]): number {
  return plan === "pro" ? ctx.quotas.pro : ctx.quotas.free;
}

/**
 * Owners' views: plain words only (user-view.ts); admins read the raw detail elsewhere.
 * `read`: the setup records and suspensions when already read with the bouncers.
 */
async function userViews(
  ctx: DomainContext,
  actor: Actor,
  bouncers: SojuBouncer[],
  read?: { records: SetupRecords; suspensions: Map<string, ProjectedSuspension> },
): Promise<UserBouncerView[]> {
  const [views, suspended] = read
    ? [await toViews(ctx, bouncers, read.records), read.suspensions]
    : await Promise.all([toViews(ctx, bouncers), suspensionsOf(ctx, actor, bouncers)]);
  return views.map((view, i) => {
    const b = bouncers[i]!;
    const row = suspended.get(b.metadata.name);
    // A row of an earlier bouncer of the same name (another uid) says nothing about this one.
    const facts: SuspensionFacts | null =
      row && (!b.metadata.uid || row.uid === b.metadata.uid)
        ? {
            since: row.since,
            reason: row.reason,
            plan: actor.plan,
            quota: quotaFor(ctx, actor.plan),
          }
        : null;
    return toUserView(b, view, facts);
  });
}

/** The caller's suspended bouncers among these (bouncers.suspended_at, set by @irc-now/billing). */
async function suspensionsOf(
  ctx: DomainContext,
  actor: Actor,
  bouncers: SojuBouncer[],
): Promise<Map<string, ProjectedSuspension>> {
  const found = new Map<string, ProjectedSuspension>();
  if (bouncers.length === 0) return found;
  const { rows } = await ctx.db.execute<{
    name: string;
    uid: string;
    suspended_at: string | Date;
    suspended_reason: string | null;
  }>(sql`
    SELECT name, uid, suspended_at, suspended_reason FROM bouncers
     WHERE namespace = ${ctx.namespace} AND owner_id = ${actor.id}
       AND suspended_at IS NOT NULL
       AND name = ANY(${sql.param(bouncers.map((b) => b.metadata.name))}::text[])`);
  for (const r of rows)
    found.set(r.name, { uid: r.uid, since: new Date(r.suspended_at), reason: r.suspended_reason });
  return found;
}

/**
 * The caller's bouncers: from the accounts DB's projection while a worker keeps it (no
 * Kubernetes call per dashboard refresh), from Kubernetes when it cannot be trusted
 * (projection-reads.ts). Either way the same views, built by the same code.
 */
export async function listMyBouncers(ctx: DomainContext, actor: Actor): Promise<UserBouncerView[]> {
  if (isFresh(await projectionSyncedAt(ctx.db))) {
    // One query: the bouncers with their setup records and suspensions.
    const projected = await projectedBouncersWithRecordsOf(ctx.db, ctx.namespace, actor.id);
    if (projected) return userViews(ctx, actor, projected.bouncers, projected);
  }
  return listMyBouncersFromKubernetes(ctx, actor);
}

/**
 * {@link listMyBouncers} from what `userWithProjection` read with the session's user row (the
 * caller has checked that row and made `actor` from it): no further query on the projection
 * path; Kubernetes when no worker vouches for the projection.
 */
export async function listMyBouncersFromRead(
  ctx: DomainContext,
  actor: Actor,
  read: Pick<UserWithProjection, "syncedAt" | "projected">,
): Promise<UserBouncerView[]> {
  if (isFresh(read.syncedAt) && read.projected)
    return userViews(ctx, actor, read.projected.bouncers, read.projected);
  return listMyBouncersFromKubernetes(ctx, actor);
}

async function listMyBouncersFromKubernetes(
  ctx: DomainContext,
  actor: Actor,
): Promise<UserBouncerView[]> {
  const { items } = await ctx.bouncers.listByOwner(actor.id);
  // Defence in depth: never trust a label selector alone to enforce ownership.
  const mine = items
    .filter((b) => ownedBy(b, actor))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return userViews(ctx, actor, mine);
}

/** The caller's own bouncer; another user's bouncer is reported exactly like a missing one. */
export async function getMyBouncer(
  ctx: DomainContext,
  actor: Actor,
  name: string,
): Promise<UserBouncerView> {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer || !ownedBy(bouncer, actor))
    throw new DomainError("NOT_FOUND", `You have no bouncer named "${name}".`);
  return (await userViews(ctx, actor, [bouncer]))[0]!;
}

/** How long a create waits for the user's create lock before giving up (`lock_timeout`). */
export const CREATE_LOCK_WAIT_MS = 5_000;

/**
 * This process's creates, one at a time per user: a burst of one user's creates then waits here,
 * not on a pooled connection each, so it cannot take the pool from everyone else.
 */
const createQueues = new Map<string, Promise<void>>();

function onePerUser<T>(userId: string, task: () => Promise<T>): Promise<T> {
  const run = (createQueues.get(userId) ?? Promise.resolve()).then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  createQueues.set(userId, tail);
  void tail.then(() => {
    if (createQueues.get(userId) === tail) createQueues.delete(userId);
  });
  return run;
}

const pgCodeOf = (error: unknown): unknown =>
  (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;

/**
 * Creates a SojuBouncer for the caller. Idempotent: submitting the same name twice returns the
 * existing bouncer. The quota check and the create run under a per-user advisory lock (across
 * replicas) so two concurrent submissions cannot both slip under the quota. The transaction that
 * holds the lock uses its one connection and Kubernetes only: the view is built after the commit,
 * so no lock holder ever waits for a second pooled connection; the lock wait is bounded.
 */
export async function createBouncer(
  ctx: DomainContext,
  actor: Actor,
  name: string,
): Promise<UserBouncerView> {
  // Sign-in refuses such usernames; a session from before that rule must not get a bouncer
  // that the worker can never set up.
  if (unusableAccountName(actor.username, { adminNick: ctx.ergoAdminNick })) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      `Your username "${actor.username}" is reserved on the irc.now IRC network, so a bouncer cannot be set up for it. Please change your username in your account settings and sign in again.`,
    );
  }
  const bouncer = await onePerUser(actor.id, () =>
    ctx.db
      .transaction(async (tx) => {
        await tx.execute(
          sql`SELECT set_config('lock_timeout', ${`${CREATE_LOCK_WAIT_MS}ms`}, true)`,
        );
        await tx.execute(
          sql`SELECT pg_advisory_xact_lock(hashtextextended(${"bouncer-create:" + actor.id}, 0))`,
        );
        return createUnderLock(ctx, actor, name);
      })
      .catch((error: unknown) => {
        // 55P03 lock_not_available: another create of this user (another replica) is stuck.
        if (pgCodeOf(error) === "55P03")
          throw new DomainError(
            "UNAVAILABLE",
            "Another change to your bouncers is still in progress. Please try again in a minute.",
          );
        throw error;
      }),
  );
  // Read-your-writes: the next dashboard refresh shows it even before the worker's watch has.
  await recordCreated(ctx.db, ctx.namespace, actor.id, bouncer).catch((error: unknown) =>
    console.error(`recording bouncer ${name} in the projection failed: ${String(error)}`),
  );
  return (await userViews(ctx, actor, [bouncer]))[0]!;
}

/**
 * A failure on our side: the user gets plain words and what to do; the raw Kubernetes answer
 * (it names service accounts, hosts, quotas) goes to the server log, which is for admins.
 */
function unavailable(action: "create" | "delete", name: string, error: unknown): DomainError {
  console.error(`bouncer ${action} ${name} failed: ${describeKubeError(error)}`);
  return new DomainError(
    "UNAVAILABLE",
    `We could not ${action} your bouncer right now: irc.now's systems did not answer as expected. Please try again in a few minutes; if it keeps failing, contact irc.now support.`,
  );
}

/** The quota check and the create; Kubernetes only (the caller's transaction holds the lock). */
async function createUnderLock(
  ctx: DomainContext,
  actor: Actor,
  name: string,
): Promise<SojuBouncer> {
  const taken = () =>
    new DomainError("CONFLICT", `The name "${name}" is already taken. Please pick another one.`);
  const existing = await ctx.bouncers.get(name);
  if (existing) {
    if (ownedBy(existing, actor)) return existing;
    throw taken();
  }
  const { items } = await ctx.bouncers.listByOwner(actor.id);
  const quota = quotaFor(ctx, actor.plan);
  if (items.filter((b) => ownedBy(b, actor)).length >= quota) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      actor.plan === "pro"
        ? `Your pro plan includes ${quota} bouncer${quota === 1 ? "" : "s"}, and you have reached it. Delete one to create another.`
        : `Your free plan includes ${quota} bouncer${quota === 1 ? "" : "s"}. To create another, delete ${quota === 1 ? "yours" : "one"} first.`,
    );
  }
  try {
    return await ctx.bouncers.create({
      name,
      username: actor.username,
      plan: actor.plan,
      ownerId: actor.id,
    });
  } catch (error) {
    if (reasonOf(error) === "AlreadyExists") {
      const raced = await ctx.bouncers.get(name);
      if (raced && ownedBy(raced, actor)) return raced;
      throw taken();
    }
    throw unavailable("create", name, error);
  }
}

/** Deletes the caller's own bouncer; `confirmName` must repeat its name. */
export async function deleteBouncer(
  ctx: DomainContext,
  actor: Actor,
  name: string,
  confirmName: string,
): Promise<{ deleted: string }> {
  if (confirmName.trim() !== name) {
    throw new DomainError(
      "BAD_REQUEST",
      `Type "${name}" to confirm that you want to delete this bouncer.`,
    );
  }
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer || !ownedBy(bouncer, actor))
    throw new DomainError("NOT_FOUND", `You have no bouncer named "${name}".`);
  try {
    await ctx.bouncers.delete(name);
  } catch (error) {
    throw unavailable("delete", name, error);
  }
  if (bouncer.metadata.uid)
    await recordDeleting(ctx.db, ctx.namespace, name, bouncer.metadata.uid).catch(
      (error: unknown) =>
        console.error(
          `recording the deletion of ${name} in the projection failed: ${String(error)}`,
        ),
    );
  // The deleted bouncer frees a place: the oldest suspended one resumes (the worker then enables
  // its soju user). The delete itself is done, so a failure here is logged, not the user's error.
  await resumeWithinQuota(ctx, actor.id).catch((error: unknown) =>
    console.error(`resuming suspended bouncers after deleting ${name} failed: ${String(error)}`),
  );
  return { deleted: name };
}

/**
 * Re-applies the quota of the owner's current plan to their suspensions. The plan is read under
 * the user's row lock, the lock (and order: user, then bouncers) a Stripe-driven plan change
 * takes, so a delete racing a downgrade never applies a stale quota.
 */
export async function resumeWithinQuota(ctx: DomainContext, userId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [user] = await tx
      .select({ plan: accounts.users.plan })
      .from(accounts.users)
      .where(eq(accounts.users.id, userId))
      .for("update");
    if (!user) return;
    await reconcileSuspensions(tx, userId, quotaFor(ctx, user.plan));
  });
}
