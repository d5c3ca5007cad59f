import { eq, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { DELETION_PENDING_MESSAGE, deletionPending } from "./account-deletion";
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
 * in step with Keycloak, stamps last_login_at and counts the login (irc_now_logins_total). In the
 * same transaction it queues a Keycloak push (`plan`, `content_expires` and the name).
 *
 * Keycloak owns the email (changed through it, verified by it). The display name is Keycloak's
 * until the user saves a profile (a `profile` outbox row exists), the portal's from then on: a
 * login must not put back the old name while the push of the new one is still pending.
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
  // A user who asked to delete their account never gets a session again (the worker deletes
  // the Keycloak user soon after; until then Keycloak would still let them in).
  if (await deletionPending(db, identity.subject)) {
    throw new DomainError("FORBIDDEN", DELETION_PENDING_MESSAGE);
  }
  try {
    return await db.transaction(async (tx) => {
      const [user] = await tx
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
            displayName: sql`case when exists (select 1 from keycloak_outbox o where o.user_id = "users"."id" and o.reason = 'profile') then "users"."display_name" else excluded.display_name end`,
            lastLoginAt: sql`now()`,
            loginCount: sql`${accounts.users.loginCount} + 1`,
            updatedAt: sql`now()`,
          },
        })
        .returning();
      await accounts.enqueueKeycloakSync(tx, user!.id, "login");
      return user!;
    });
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

const prepareUserById = (db: AccountsDb) =>
  db
    .select()
    .from(accounts.users)
    .where(eq(accounts.users.id, sql.placeholder("id")))
    .prepare("user_by_id");

// Built once per pool, and a named statement that PostgreSQL parses once per connection: every
// signed-in request reads the user row (session cutoff, plan), so this is on the hot path.
const userByIdStatements = new WeakMap<AccountsDb, ReturnType<typeof prepareUserById>>();

export async function userById(db: AccountsDb, id: string): Promise<accounts.User | null> {
  let statement = userByIdStatements.get(db);
  if (!statement) userByIdStatements.set(db, (statement = prepareUserById(db)));
  const [user] = await statement.execute({ id });
  return user ?? null;
}
