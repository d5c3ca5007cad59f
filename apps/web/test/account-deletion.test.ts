import type { Session } from "next-auth";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import {
  DELETION_PENDING_MESSAGE,
  deletionPending,
  requestAccountDeletion,
} from "~/server/domain/account-deletion";
import { DomainError } from "~/server/domain/errors";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";
import { trpcError, useWebEnv } from "./support/web-env";

// account.requestDeletion over a real PostgreSQL: the request, the session cut, the audit row,
// and sign-in refused while the worker has not finished.

let world: World;
beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
});
afterAll(async () => {
  await world?.stop();
});

let n = 0;
async function signedIn(username = `del${++n}`) {
  const user = await recordLogin(world.db, { subject: `kc-${username}`, username });
  await world.db
    .update(accounts.users)
    .set({ stripeCustomerId: `cus_${username}` })
    .where(eq(accounts.users.id, user.id));
  const session: Session = {
    signedInAt: Date.now() - 1000,
    user: { id: user.id, username, isAdmin: false },
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  };
  return { user, caller: createCaller(createTRPCContext(session)) };
}

const deletionOf = async (userId: string) =>
  (
    await world.db
      .select()
      .from(accounts.accountDeletions)
      .where(eq(accounts.accountDeletions.userId, userId))
  )[0];

describe("account.requestDeletion", () => {
  it("refuses a username that is not the caller's, and an empty one, recording nothing", async () => {
    const { user, caller } = await signedIn();
    const other = await signedIn();
    const wrong = await trpcError(
      caller.account.requestDeletion({ confirmUsername: other.user.username }),
    );
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.message).toBe(
      `That is not your username. Type “${user.username}” exactly to confirm.`,
    );
    const empty = await trpcError(caller.account.requestDeletion({ confirmUsername: "  " }));
    expect(empty.code).toBe("BAD_REQUEST");
    expect(empty.message).toContain("Type your username to confirm.");
    expect(await deletionOf(user.id)).toBeUndefined();
    expect(await deletionOf(other.user.id)).toBeUndefined();
    // still signed in
    await expect(caller.bouncer.mine()).resolves.toBeDefined();
  });

  it("records the deletion with the user's ids, ends every session at once and audits it", async () => {
    const { user, caller } = await signedIn();
    const bystander = await signedIn();
    const before = Date.now();
    const out = await caller.account.requestDeletion({
      confirmUsername: ` ${user.username.toUpperCase()} `,
    });
    expect(out.requestedAt).toBeInstanceOf(Date);

    const row = await deletionOf(user.id);
    expect(row).toMatchObject({
      keycloakSubject: user.keycloakSubject,
      username: user.username,
      stripeCustomerId: `cus_${user.username}`,
      stripeSubscriptionId: null,
      step: "bouncers",
      completedAt: null,
    });
    const [cut] = await world.db
      .select({ at: accounts.users.sessionsValidAfter })
      .from(accounts.users)
      .where(eq(accounts.users.id, user.id));
    expect(cut!.at!.getTime()).toBeGreaterThanOrEqual(before);
    // the same session is refused from now on; the bystander's is not
    expect((await trpcError(caller.bouncer.mine())).code).toBe("UNAUTHORIZED");
    await expect(bystander.caller.bouncer.mine()).resolves.toBeDefined();

    const audit = await world.db
      .select()
      .from(accounts.adminAuditLog)
      .where(eq(accounts.adminAuditLog.target, `user/${user.id}`));
    expect(audit).toEqual([
      expect.objectContaining({
        actorUserId: user.id,
        actorUsername: user.username,
        action: "account.delete-requested",
        details: { userId: user.id },
      }),
    ]);
  });

  it("asking twice is the same request (one row, one audit entry)", async () => {
    const { user } = await signedIn();
    const actor = { id: user.id, username: user.username, plan: user.plan };
    const first = await requestAccountDeletion(world.db, actor, { confirmUsername: user.username });
    const second = await requestAccountDeletion(world.db, actor, {
      confirmUsername: user.username,
    });
    expect(second.requestedAt.getTime()).toBe(first.requestedAt.getTime());
    const { rows } = await world.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM admin_audit_log WHERE target = ${`user/${user.id}`}`,
    );
    expect(rows[0]!.n).toBe(1);
  });
});

describe("signing in while the deletion is pending", () => {
  it("recordLogin refuses with words for the user; after the worker finished, a new account may sign up", async () => {
    const { user, caller } = await signedIn();
    await caller.account.requestDeletion({ confirmUsername: user.username });
    expect(await deletionPending(world.db, user.keycloakSubject)).toBe(true);

    const error = await recordLogin(world.db, {
      subject: user.keycloakSubject,
      username: user.username,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).kind).toBe("FORBIDDEN");
    expect((error as DomainError).message).toBe(DELETION_PENDING_MESSAGE);
    const [stamp] = await world.db
      .select({ count: accounts.users.loginCount })
      .from(accounts.users)
      .where(eq(accounts.users.id, user.id));
    expect(stamp!.count).toBe(1);

    // What the worker's last step does: the user row goes, the deletion row keeps no subject.
    await world.db.delete(accounts.users).where(eq(accounts.users.id, user.id));
    await world.db
      .update(accounts.accountDeletions)
      .set({ keycloakSubject: null, username: null, step: "done", completedAt: new Date() })
      .where(eq(accounts.accountDeletions.userId, user.id));
    expect(await deletionPending(world.db, user.keycloakSubject)).toBe(false);
    const again = await recordLogin(world.db, {
      subject: "kc-someone-new",
      username: user.username,
    });
    expect(again.id).not.toBe(user.id);
  });
});
