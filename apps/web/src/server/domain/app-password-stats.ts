import { and, eq, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import type { DomainContext } from "./context";

export interface AppPasswordStats {
  /** False when the worker's projection has no row for the bouncer (yet) or no owner. */
  known: boolean;
  /** The owner's app passwords that still work (not revoked, not expired). */
  live: number;
  /** Not revoked, including expired ones the owner has not removed. */
  kept: number;
  /**
   * The latest client login with one of the owner's app passwords valid for this bouncer
   * (scoped to it, or to all: such a password's last login may have been on another of the
   * owner's bouncers; the table keeps one last use per password).
   */
  lastUsedAt: Date | null;
}

/**
 * What admins may know about a bouncer's app passwords: counts and a time, never a label, a
 * hash or an address (admins can neither see nor create a user's passwords). One query over
 * the bouncers projection and app_passwords.
 */
export async function appPasswordStats(
  ctx: Pick<DomainContext, "db" | "namespace">,
  bouncer: string,
): Promise<AppPasswordStats> {
  const b = accounts.bouncers;
  const p = accounts.appPasswords;
  const [row] = await ctx.db
    .select({
      ownerId: b.ownerId,
      live: sql<number>`count(${p.id}) FILTER (WHERE ${p.revokedAt} IS NULL AND (${p.expiresAt} IS NULL OR ${p.expiresAt} > now()))`.mapWith(
        Number,
      ),
      kept: sql<number>`count(${p.id}) FILTER (WHERE ${p.revokedAt} IS NULL)`.mapWith(Number),
      lastUsedAt:
        sql<Date | null>`max(${p.lastUsedAt}) FILTER (WHERE ${p.bouncer} IS NULL OR ${p.bouncer} = ${b.name})`.mapWith(
          (v: string | Date | null) => (v === null ? null : new Date(v)),
        ),
    })
    .from(b)
    .leftJoin(p, eq(p.userId, b.ownerId))
    .where(and(eq(b.namespace, ctx.namespace), eq(b.name, bouncer)))
    .groupBy(b.namespace, b.name, b.ownerId);
  if (!row || row.ownerId === null) return { known: false, live: 0, kept: 0, lastUsedAt: null };
  return { known: true, live: row.live, kept: row.kept, lastUsedAt: row.lastUsedAt };
}
