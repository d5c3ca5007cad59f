import { sql } from "drizzle-orm";
import { unusableAccountName } from "@irc-now/ergo";
import { describeKubeError, LABEL_OWNER, reasonOf, type SojuBouncer } from "@irc-now/k8s";
import type { Actor, DomainContext } from "./context";
import { DomainError } from "./errors";
import { toViews, type BouncerView } from "./status";

const ownedBy = (b: SojuBouncer, actor: Actor) => b.metadata.labels?.[LABEL_OWNER] === actor.id;

export function quotaFor(ctx: DomainContext, plan: Actor["plan"]): number {
  return plan === "pro" ? ctx.quotas.pro : ctx.quotas.free;
}

export async function listMyBouncers(ctx: DomainContext, actor: Actor): Promise<BouncerView[]> {
  const { items } = await ctx.bouncers.listByOwner(actor.id);
  // Defence in depth: never trust a label selector alone to enforce ownership.
  const mine = items
    .filter((b) => ownedBy(b, actor))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return toViews(ctx, mine);
}

/** The caller's own bouncer; another user's bouncer is reported exactly like a missing one. */
export async function getMyBouncer(
  ctx: DomainContext,
  actor: Actor,
  name: string,
): Promise<BouncerView> {
  const bouncer = await ctx.bouncers.get(name);
  if (!bouncer || !ownedBy(bouncer, actor))
    throw new DomainError("NOT_FOUND", `You have no bouncer named "${name}".`);
  const [view] = await toViews(ctx, [bouncer]);
  return view!;
}

/**
 * Creates a SojuBouncer for the caller. Idempotent: submitting the same name twice returns the
 * existing bouncer. The quota check and the create run under a per-user advisory lock so two
 * concurrent submissions cannot both slip under the quota.
 */
export async function createBouncer(
  ctx: DomainContext,
  actor: Actor,
  name: string,
): Promise<BouncerView> {
  // Sign-in refuses such usernames; a session from before that rule must not get a bouncer
  // that the worker can never set up.
  if (unusableAccountName(actor.username, { adminNick: ctx.ergoAdminNick })) {
    throw new DomainError(
      "PRECONDITION_FAILED",
      `Your username "${actor.username}" is reserved on the irc.now IRC network, so a bouncer cannot be set up for it. Please change your username in your account settings and sign in again.`,
    );
  }
  return ctx.db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${"bouncer-create:" + actor.id}, 0))`,
    );
    const existing = await ctx.bouncers.get(name);
    if (existing) {
      if (ownedBy(existing, actor)) return (await toViews(ctx, [existing]))[0]!;
      throw new DomainError(
        "CONFLICT",
        `The name "${name}" is already taken. Please pick another one.`,
      );
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
      const created = await ctx.bouncers.create({
        name,
        username: actor.username,
        plan: actor.plan,
        ownerId: actor.id,
      });
      return (await toViews(ctx, [created]))[0]!;
    } catch (error) {
      if (reasonOf(error) === "AlreadyExists") {
        const raced = await ctx.bouncers.get(name);
        if (raced && ownedBy(raced, actor)) return (await toViews(ctx, [raced]))[0]!;
        throw new DomainError(
          "CONFLICT",
          `The name "${name}" is already taken. Please pick another one.`,
        );
      }
      throw new DomainError(
        "UNAVAILABLE",
        `Could not create your bouncer right now (${describeKubeError(error)}). Please try again.`,
      );
    }
  });
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
  await ctx.bouncers.delete(name);
  return { deleted: name };
}
