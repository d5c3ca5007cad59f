import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { accounts, type AccountsDb } from "@irc-now/db";
import { contentExpires, KeycloakAdminError, type KeycloakAdmin } from "@irc-now/keycloak";
import { RateLimited, type RateLimiter } from "../rate-limit";
import type { Actor } from "./context";
import { DomainError } from "./errors";
import { updateProfileInput, type ProfileField, type UpdateProfileInput } from "./profile-schema";

/** What the profile needs: the accounts DB, Keycloak's admin API (email), a budget for emails. */
export interface ProfileContext {
  db: AccountsDb;
  keycloak: KeycloakAdmin;
  /** Email changes per user (each sends a verification email); absent: unlimited. */
  emailChanges?: RateLimiter;
}

/** Email changes per user per hour: each one makes Keycloak send a verification email. */
export const EMAIL_CHANGE_LIMIT = { name: "email-change", points: 5, durationS: 3600 };

export const profileView = z.object({
  username: z.string(),
  /** "" when the user shows their username. */
  displayName: z.string(),
  email: z.string().nullable(),
  plan: z.enum(["free", "pro"]),
  /** The stored pro setting. */
  contentAutoExpire: z.boolean(),
  /** What other irc.now services are told (`content_expires`): always true on free. */
  contentExpires: z.boolean(),
  /** A change Keycloak has not been told yet (the worker pushes it). */
  syncPending: z.boolean(),
});
export type ProfileView = z.infer<typeof profileView>;

const fieldErrorsSchema = z.object({
  displayName: z.string().optional(),
  email: z.string().optional(),
  contentAutoExpire: z.string().optional(),
});

export const updateProfileResult = z.object({
  profile: profileView,
  /** Whether the display name and content setting were saved (false: nothing was changed). */
  saved: z.boolean(),
  /** Fields that were not saved, with why, in words for the user. */
  fieldErrors: fieldErrorsSchema,
  /** Keycloak took the new email and sent the verification email. */
  emailVerificationSent: z.boolean(),
});
export type UpdateProfileResult = z.infer<typeof updateProfileResult>;

export const PRO_ONLY_EXPIRY =
  "Keeping your content is a Pro setting: on the free plan it always expires after 90 days.";

export async function getProfile(db: AccountsDb, userId: string): Promise<ProfileView> {
  const [row] = await db
    .select({
      user: accounts.users,
      // Spelled out: drizzle leaves the outer column unqualified, which would mean the outbox's id.
      pending: sql<boolean>`exists (select 1 from keycloak_outbox o where o.user_id = "users"."id" and o.delivered_at is null)`,
    })
    .from(accounts.users)
    .where(eq(accounts.users.id, userId));
  if (!row) throw new DomainError("NOT_FOUND", "Your account no longer exists.");
  const { user, pending } = row;
  return {
    username: user.username,
    displayName: user.displayName ?? "",
    email: user.email,
    plan: user.plan,
    contentAutoExpire: user.contentAutoExpire,
    contentExpires: contentExpires(user),
    syncPending: pending,
  };
}

/**
 * Saves the profile. A new email goes to Keycloak at once (it owns emails and their
 * verification): a duplicate or an outage is a field error on the email while the rest is saved.
 * The display name and content setting go to the accounts DB with an outbox row in one
 * transaction (the worker tells Keycloak; an outage there loses nothing and does not fail the
 * save).
 */
export async function updateProfile(
  ctx: ProfileContext,
  actor: Pick<Actor, "id">,
  rawInput: UpdateProfileInput,
): Promise<UpdateProfileResult> {
  const input = updateProfileInput.parse(rawInput);
  const [user] = await ctx.db.select().from(accounts.users).where(eq(accounts.users.id, actor.id));
  if (!user) throw new DomainError("NOT_FOUND", "Your account no longer exists.");
  const fieldErrors: Partial<Record<ProfileField, string>> = {};

  // A free user cannot change the setting (the form disables it; this is the server's word).
  if (user.plan === "free" && input.contentAutoExpire !== user.contentAutoExpire) {
    return {
      profile: await getProfile(ctx.db, user.id),
      saved: false,
      fieldErrors: { contentAutoExpire: PRO_ONLY_EXPIRY },
      emailVerificationSent: false,
    };
  }

  // The email first: the outbox row below wakes the worker, whose push reads the Keycloak user
  // and writes it back whole (email included), so a push racing this change could undo it.
  // Keycloak keeps emails in lowercase.
  const email = input.email.toLowerCase();
  let emailVerificationSent = false;
  if (email !== (user.email ?? "").toLowerCase()) {
    const outcome = await changeEmail(ctx, user, email);
    if (outcome === "changed") emailVerificationSent = true;
    else fieldErrors.email = outcome.error;
  }

  const displayName = input.displayName === "" ? null : input.displayName;
  if (displayName !== user.displayName || input.contentAutoExpire !== user.contentAutoExpire) {
    await ctx.db.transaction(async (tx) => {
      await tx
        .update(accounts.users)
        .set({ displayName, contentAutoExpire: input.contentAutoExpire, updatedAt: sql`now()` })
        .where(eq(accounts.users.id, user.id));
      await accounts.enqueueKeycloakSync(tx, user.id, "profile");
    });
  }

  return {
    profile: await getProfile(ctx.db, user.id),
    saved: true,
    fieldErrors,
    emailVerificationSent,
  };
}

async function changeEmail(
  ctx: ProfileContext,
  user: accounts.User,
  email: string,
): Promise<"changed" | { error: string }> {
  try {
    await ctx.emailChanges?.consume(user.id);
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    const minutes = Math.ceil(error.retryAfterS / 60);
    return {
      error: `You changed your email several times in the last hour. Please try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`,
    };
  }
  try {
    // Under the user's Keycloak lock, with the portal's copy in the same transaction: the
    // worker's push (which writes the whole Keycloak user back) waits, then reads the new email.
    await ctx.db.transaction(async (tx) => {
      await accounts.lockKeycloakUser(tx, user.id);
      await ctx.keycloak.changeEmail(user.keycloakSubject, email);
      // Keycloak has it (unverified, verification email sent): the portal's copy follows.
      await tx
        .update(accounts.users)
        .set({ email, updatedAt: sql`now()` })
        .where(eq(accounts.users.id, user.id));
    });
  } catch (error) {
    // Not the user's doing: the attempt does not count against their budget.
    await ctx.emailChanges?.refund(user.id).catch(() => undefined);
    if (!(error instanceof KeycloakAdminError)) throw error;
    switch (error.kind) {
      case "conflict":
        return { error: "This email address is already used by another account." };
      case "bad_request":
        return {
          error: "The sign-in service did not accept this email address. Check it and try again.",
        };
      case "unavailable":
        return {
          error:
            "Email changes need the sign-in service, which is not answering right now. Your other changes are saved; please try the email again shortly.",
        };
      default:
        // For admins: the kind and status, never the address or a token.
        console.error(
          `profile: Keycloak refused an email change (${error.kind}${error.status ? ` ${error.status}` : ""}): ${error.message}`,
        );
        return {
          error:
            "Your email could not be changed right now. Please try again later or contact support.",
        };
    }
  }
  return "changed";
}
