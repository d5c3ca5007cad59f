import { eq, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { DomainError } from "./errors";
import { usernameSchema } from "./names";

export interface LoginIdentity {
  subject: string;
  username: string;
  email?: string | null;
  displayName?: string | null;
}

/**
 * Called on every successful sign-in: creates the user on first login, keeps username/email/name
 * in step with Keycloak, stamps last_login_at and counts the login (irc_now_logins_total).
 */
export async function recordLogin(db: AccountsDb, identity: LoginIdentity): Promise<accounts.User> {
  const username = identity.username.toLowerCase();
  const parsed = usernameSchema.safeParse(username);
  if (!parsed.success) {
    throw new DomainError(
      "BAD_REQUEST",
      `The username "${identity.username}" cannot be used on IRC: it ${parsed.error.issues[0]?.message ?? "is invalid"}.`,
    );
  }
  try {
    const [user] = await db
      .insert(accounts.users)
      .values({
        keycloakSubject: identity.subject,
        username,
        email: identity.email ?? null,
        displayName: identity.displayName ?? null,
        lastLoginAt: sql`now()`,
        loginCount: 1,
      })
      .onConflictDoUpdate({
        target: accounts.users.keycloakSubject,
        set: {
          username,
          email: identity.email ?? null,
          displayName: identity.displayName ?? null,
          lastLoginAt: sql`now()`,
          loginCount: sql`${accounts.users.loginCount} + 1`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return user!;
  } catch (error) {
    const constraint = (error as { cause?: { constraint?: string } }).cause?.constraint;
    if (constraint === "users_username_key") {
      throw new DomainError(
        "CONFLICT",
        `The username "${username}" already belongs to another irc.now account.`,
      );
    }
    throw error;
  }
}

export async function userById(db: AccountsDb, id: string): Promise<accounts.User | null> {
  const [user] = await db.select().from(accounts.users).where(eq(accounts.users.id, id));
  return user ?? null;
}
