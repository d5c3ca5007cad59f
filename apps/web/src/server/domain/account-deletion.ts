import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { accounts, type AccountsDb } from "@irc-now/db";
import type { Actor } from "./context";
import { DomainError } from "./errors";

/**
 * A user deleting their own account (issue 13). The web only records the request and ends every
 * session of the user at once; the worker's leader does the deleting, step by step and resumable
 * (apps/worker/src/account-deletion). Nothing here talks to Kubernetes, ergo or Keycloak, so the
 * request cannot half-succeed.
 */

export const requestDeletionInput = z.object({
  confirmUsername: z
    .string({ error: "Type your username to confirm." })
    .trim()
    .min(1, { error: "Type your username to confirm." })
    .max(100, { error: "That is not your username." }),
});

export const deletionRequestView = z.object({ requestedAt: z.date() });

/** The sign-in refusal a user whose deletion is pending gets. */
export const DELETION_PENDING_MESSAGE =
  "This irc.now account is being deleted, so it can no longer be used to sign in.";

export async function requestAccountDeletion(
  db: AccountsDb,
  actor: Actor,
  input: z.infer<typeof requestDeletionInput>,
  now = new Date(),
): Promise<z.infer<typeof deletionRequestView>> {
  // Usernames are stored lowercase; typing it with capitals still means the same account.
  if (input.confirmUsername.toLowerCase() !== actor.username) {
    throw new DomainError(
      "BAD_REQUEST",
      `That is not your username. Type “${actor.username}” exactly to confirm.`,
    );
  }
  return db.transaction(async (tx) => {
    const [user] = await tx
      .select()
      .from(accounts.users)
      .where(eq(accounts.users.id, actor.id))
      .for("update");
    if (!user) throw new DomainError("NOT_FOUND", "Your account no longer exists.");
    // One row per user (unique user_id): asking twice is the same request.
    const [inserted] = await tx
      .insert(accounts.accountDeletions)
      .values({
        userId: user.id,
        keycloakSubject: user.keycloakSubject,
        username: user.username,
        stripeCustomerId: user.stripeCustomerId,
        stripeSubscriptionId: user.stripeSubscriptionId,
      })
      .onConflictDoNothing({ target: accounts.accountDeletions.userId })
      .returning({ requestedAt: accounts.accountDeletions.requestedAt });
    // Every session of this user ends now, in every browser (the web's clock, as sign-out uses:
    // sign-in times are the web's too).
    await tx
      .update(accounts.users)
      .set({ sessionsValidAfter: now, updatedAt: now })
      .where(eq(accounts.users.id, user.id));
    if (!inserted) {
      const [existing] = await tx
        .select({ requestedAt: accounts.accountDeletions.requestedAt })
        .from(accounts.accountDeletions)
        .where(eq(accounts.accountDeletions.userId, user.id));
      return { requestedAt: existing?.requestedAt ?? now };
    }
    // The worker rewrites this row's actor and target to an anonymous id when it deletes the
    // account's rows (apps/worker/src/account-deletion/rows.ts).
    await tx.insert(accounts.adminAuditLog).values({
      actorUserId: user.id,
      actorUsername: user.username,
      action: "account.delete-requested",
      target: `user/${user.id}`,
      details: { userId: user.id },
    });
    return { requestedAt: inserted.requestedAt };
  });
}

/** True while a deletion of the Keycloak user `subject` is requested and not finished. */
export async function deletionPending(db: AccountsDb, subject: string): Promise<boolean> {
  const [row] = await db
    .select({ id: accounts.accountDeletions.id })
    .from(accounts.accountDeletions)
    .where(
      and(
        eq(accounts.accountDeletions.keycloakSubject, subject),
        isNull(accounts.accountDeletions.completedAt),
      ),
    )
    .limit(1);
  return row !== undefined;
}
