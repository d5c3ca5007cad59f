import { accounts, type AccountsDb } from "@irc-now/db";
import { eq } from "drizzle-orm";

/**
 * Server-side end of a user's sessions: sign-out stamps `users.sessions_valid_after`, and every
 * request refuses a session cookie whose sign-in is not after it. Session cookies are stateless
 * JWTs, so without this a cookie copied before sign-out would work until it expires. It ends
 * the user's sessions in every browser, as Keycloak's own sign-out ends its SSO session.
 */
export async function endSessions(db: AccountsDb, userId: string, at = new Date()): Promise<void> {
  // The web's clock, not the DB's: sign-in times (`signedInAt`) are the web's too, so a skew
  // between the two can never refuse a sign-in made right after a sign-out.
  await db
    .update(accounts.users)
    .set({ sessionsValidAfter: at })
    .where(eq(accounts.users.id, userId));
}

/** A session signed in at `signedInAt` (epoch ms) is still valid for a user with this cutoff. */
export function signedInAfterCutoff(
  signedInAt: number | undefined,
  sessionsValidAfter: Date | null,
): boolean {
  if (!sessionsValidAfter) return true;
  return typeof signedInAt === "number" && signedInAt > sessionsValidAfter.getTime();
}

/** The user's cutoff, or `undefined` when the user no longer exists. */
export async function sessionsValidAfter(
  db: AccountsDb,
  userId: string,
): Promise<Date | null | undefined> {
  const [row] = await db
    .select({ validAfter: accounts.users.sessionsValidAfter })
    .from(accounts.users)
    .where(eq(accounts.users.id, userId));
  return row ? row.validAfter : undefined;
}
