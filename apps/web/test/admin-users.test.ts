import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { stripeCustomerUrl, stripeModeOfKey } from "~/server/domain/admin-users";
import { createBouncer } from "~/server/domain/bouncers";
import { recordLogin } from "~/server/domain/users";
import { sessionFor, trpcError, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// The admin console's users (adminUsers router) over the real accounts DB and the Kubernetes
// stand-in: what the billing webhooks, the worker and the deletion job leave behind, as admins
// see it.

let world: World;
let adminId: string;
let aliceId: string;
let bobId: string;
let carolId: string;
const DAY_MS = 86_400_000;
const pastDueSince = new Date("2026-11-20T10:00:00Z");

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world, {
    PRO_GRACE_DAYS: "7",
    // Never contacted: only the key's prefix is read (it picks the dashboard's test mode).
    STRIPE_SECRET_KEY: "sk_test_admin_users_key",
    STRIPE_WEBHOOK_SECRET: "whsec_unused",
    STRIPE_PRICE_PRO: "price_unused",
  });
  adminId = (await recordLogin(world.db, { subject: "kc-admin", username: "admin" })).id;
  aliceId = (await recordLogin(world.db, { subject: "kc-alice", username: "alice" })).id;
  bobId = (await recordLogin(world.db, { subject: "kc-bob", username: "bob" })).id;
  carolId = (await recordLogin(world.db, { subject: "kc-carol", username: "carol" })).id;
  await world.db
    .update(accounts.users)
    .set({ email: "alice@example.org" })
    .where(eq(accounts.users.id, aliceId));
  // bob: pro, past_due, cancelling at period end, two bouncers of which one is suspended.
  await world.db
    .update(accounts.users)
    .set({
      email: "bob@corp.example",
      plan: "pro",
      stripeCustomerId: "cus_Bob123",
      stripeSubscriptionId: "sub_Bob123",
      stripeSubscriptionStatus: "past_due",
      pastDueSince,
      subscriptionCancelAtPeriodEnd: true,
      subscriptionPeriodEnd: new Date("2026-12-20T10:00:00Z"),
    })
    .where(eq(accounts.users.id, bobId));
  const bob = { id: bobId, username: "bob", plan: "pro" as const };
  await createBouncer(world.ctx, bob, "bob");
  await createBouncer(world.ctx, bob, "bob-two");
  await world.db
    .update(accounts.bouncers)
    .set({ suspendedAt: new Date(), suspendedReason: "over the free quota", sojuDisabled: true })
    .where(eq(accounts.bouncers.name, "bob-two"));
  await world.db.insert(accounts.processedStripeEvents).values([
    {
      eventId: "evt_1",
      type: "checkout.session.completed",
      userId: bobId,
      outcome: "plan free → pro",
      receivedAt: new Date("2026-11-01T10:00:00Z"),
    },
    {
      eventId: "evt_2",
      type: "invoice.payment_failed",
      userId: bobId,
      outcome: "past_due since 20 Nov",
      receivedAt: new Date("2026-11-20T10:00:00Z"),
    },
    { eventId: "evt_other", type: "invoice.paid", userId: aliceId, outcome: "nothing" },
  ]);
  await world.db.insert(accounts.keycloakOutbox).values({
    userId: bobId,
    reason: "plan",
    attempts: 4,
    lastError: "unavailable: connection refused",
    lastAttemptAt: new Date(),
  });
  // carol asked for her account to go; the worker is stuck at the Keycloak step.
  await world.db.insert(accounts.accountDeletions).values({
    userId: carolId,
    keycloakSubject: "kc-carol",
    username: "carol",
    step: "keycloak_user",
    attempts: 5,
    lastError: "unavailable: Keycloak DELETE /users/{id}: 503",
    nextAttemptAt: new Date(Date.now() + 300_000),
  });
  await world.db.insert(accounts.adminAuditLog).values({
    actorUserId: carolId,
    actorUsername: "carol",
    action: "account.delete-requested",
    target: `user/${carolId}`,
  });
});
afterAll(async () => {
  await world?.stop();
});

const admin = () => createCaller(createTRPCContext(sessionFor(adminId, "admin", true)));
const alice = () => createCaller(createTRPCContext(sessionFor(aliceId, "alice")));

describe("admin: users", () => {
  it("refuses users without the admin role, and leaves a deletion alone", async () => {
    expect((await trpcError(alice().adminUsers.list({}))).code).toBe("FORBIDDEN");
    expect((await trpcError(alice().adminUsers.user({ username: "bob" }))).code).toBe("FORBIDDEN");
    expect((await trpcError(alice().adminUsers.retryDeletion({ userId: carolId }))).code).toBe(
      "FORBIDDEN",
    );
    const [row] = await world.db
      .select()
      .from(accounts.accountDeletions)
      .where(eq(accounts.accountDeletions.userId, carolId));
    expect(row!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 200_000);
  });

  it("lists users by username with plan, bouncers, suspensions and pending deletions", async () => {
    const { rows, total } = await admin().adminUsers.list({});
    expect(total).toBe(4);
    expect(rows.map((r) => r.username)).toEqual(["admin", "alice", "bob", "carol"]);
    expect(rows[2]).toMatchObject({
      username: "bob",
      email: "bob@corp.example",
      plan: "pro",
      subscriptionStatus: "past_due",
      bouncers: 2,
      suspended: 1,
      pendingDeletion: null,
    });
    expect(rows[2]!.lastLoginAt).toBeInstanceOf(Date);
    expect(rows[3]).toMatchObject({
      username: "carol",
      bouncers: 0,
      pendingDeletion: { step: "keycloak_user" },
    });
  });

  it("searches by username or email prefix, case-insensitively; wildcards are literal", async () => {
    const names = async (search: string) =>
      (await admin().adminUsers.list({ search })).rows.map((r) => r.username);
    expect(await names("ca")).toEqual(["carol"]);
    expect(await names("BOB@corp")).toEqual(["bob"]);
    expect(await names("corp")).toEqual([]); // prefix, not substring
    expect(await names("%")).toEqual([]);
    expect(await names("_lice")).toEqual([]);
    expect((await admin().adminUsers.list({ search: "a" })).total).toBe(2);
  });

  it("pages", async () => {
    const first = await admin().adminUsers.list({ page: 1, pageSize: 3 });
    const second = await admin().adminUsers.list({ page: 2, pageSize: 3 });
    expect(first.total).toBe(4);
    expect(first.rows.map((r) => r.username)).toEqual(["admin", "alice", "bob"]);
    expect(second.rows.map((r) => r.username)).toEqual(["carol"]);
  });

  it("refuses bad input with a clear message", async () => {
    const long = await trpcError(admin().adminUsers.list({ search: "x".repeat(101) }));
    expect(long.code).toBe("BAD_REQUEST");
    expect(long.message).toContain("Search with at most 100 characters.");
    expect((await trpcError(admin().adminUsers.list({ page: 0 }))).code).toBe("BAD_REQUEST");
    expect((await trpcError(admin().adminUsers.user({ username: "" }))).code).toBe("BAD_REQUEST");
    const missing = await trpcError(admin().adminUsers.user({ username: "nobody" }));
    expect(missing.code).toBe("NOT_FOUND");
    expect(missing.message).toBe('There is no user named "nobody".');
  });

  it("shows a user's billing: grace deadline, cancel at period end, dashboard link, events", async () => {
    const { billing } = await admin().adminUsers.user({ username: "bob" });
    expect(billing).toMatchObject({
      plan: "pro",
      status: "past_due",
      cancelAtPeriodEnd: true,
      customerId: "cus_Bob123",
      customerUrl: "https://dashboard.stripe.com/test/customers/cus_Bob123",
    });
    expect(billing.graceEndsAt).toEqual(new Date(pastDueSince.getTime() + 7 * DAY_MS));
    expect(billing.periodEnd).toEqual(new Date("2026-12-20T10:00:00Z"));
    // Newest first, only this user's.
    expect(billing.events.map((e) => [e.eventId, e.type, e.outcome])).toEqual([
      ["evt_2", "invoice.payment_failed", "past_due since 20 Nov"],
      ["evt_1", "checkout.session.completed", "plan free → pro"],
    ]);
    // Nothing in the answer carries the Stripe key.
    const whole = JSON.stringify(await admin().adminUsers.user({ username: "bob" }));
    expect(whole).not.toContain("sk_test_admin_users_key");
  });

  it("links live customers to the live dashboard", () => {
    expect(stripeModeOfKey("sk_live_abc")).toBe("live");
    expect(stripeModeOfKey("rk_test_abc")).toBe("test");
    expect(stripeCustomerUrl("cus_X", stripeModeOfKey("sk_live_abc"))).toBe(
      "https://dashboard.stripe.com/customers/cus_X",
    );
  });

  it("shows no grace deadline unless past_due", async () => {
    const { billing } = await admin().adminUsers.user({ username: "alice" });
    expect(billing).toMatchObject({
      plan: "free",
      status: null,
      graceEndsAt: null,
      customerUrl: null,
    });
    expect(billing.events.map((e) => e.eventId)).toEqual(["evt_other"]);
  });

  it("shows the user's bouncers with suspension, and their Keycloak outbox state", async () => {
    const { bouncers, outbox, deletion } = await admin().adminUsers.user({ username: "bob" });
    expect(bouncers.map((b) => [b.name, b.phase, b.suspendedReason, b.sojuDisabled])).toEqual([
      ["bob", "provisioning", null, null],
      ["bob-two", "provisioning", "over the free quota", true],
    ]);
    expect(bouncers[1]!.suspendedAt).toBeInstanceOf(Date);
    // One sign-in row (recordLogin) and the failing plan push.
    expect(outbox).toMatchObject({
      pending: 2,
      held: false,
      stuck: true,
      attempts: 4,
      lastError: "unavailable: connection refused",
    });
    expect(deletion).toBeNull();
  });

  it("shows a pending deletion with its error, and retry makes it due, wakes the worker, audits", async () => {
    const before = await admin().adminUsers.user({ username: "carol" });
    expect(before.deletion).toMatchObject({
      step: "keycloak_user",
      attempts: 5,
      lastError: "unavailable: Keycloak DELETE /users/{id}: 503",
      completedAt: null,
    });
    expect(before.audit.map((a) => a.action)).toEqual(["account.delete-requested"]);

    const listener = new pg.Client({ connectionString: world.databaseUrl });
    await listener.connect();
    const woken = new Promise<string>((resolve) =>
      listener.on("notification", (n) => resolve(n.channel)),
    );
    await listener.query("LISTEN irc_now_account_deletions");
    try {
      const entry = await admin().adminUsers.retryDeletion({ userId: carolId });
      expect(entry).toMatchObject({
        actorUserId: adminId,
        actorUsername: "admin",
        action: "account_deletion.retry",
        target: `user/${carolId}`,
        details: {
          username: "carol",
          step: "keycloak_user",
          attempts: 5,
          lastError: "unavailable: Keycloak DELETE /users/{id}: 503",
        },
      });
      expect(await woken).toBe("irc_now_account_deletions");
    } finally {
      await listener.end();
    }
    const [row] = await world.db
      .select()
      .from(accounts.accountDeletions)
      .where(eq(accounts.accountDeletions.userId, carolId));
    expect(row!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(row!.attempts).toBe(5); // history kept
    const after = await admin().adminUsers.user({ username: "carol" });
    expect(after.audit.map((a) => a.action)).toEqual([
      "account_deletion.retry",
      "account.delete-requested",
    ]);
  });

  it("answers NOT_FOUND for a retry when no deletion is pending, BAD_REQUEST for a bad id", async () => {
    const none = await trpcError(admin().adminUsers.retryDeletion({ userId: bobId }));
    expect(none.code).toBe("NOT_FOUND");
    expect(none.message).toMatch(/No account deletion is pending/);
    await world.db
      .update(accounts.accountDeletions)
      .set({ completedAt: sql`now()`, step: "done" })
      .where(eq(accounts.accountDeletions.userId, carolId));
    expect((await trpcError(admin().adminUsers.retryDeletion({ userId: carolId }))).code).toBe(
      "NOT_FOUND",
    );
    expect((await trpcError(admin().adminUsers.retryDeletion({ userId: "carol" }))).code).toBe(
      "BAD_REQUEST",
    );
    const audits = await world.db
      .select()
      .from(accounts.adminAuditLog)
      .where(eq(accounts.adminAuditLog.action, "account_deletion.retry"));
    expect(audits).toHaveLength(1); // refused retries write nothing
  });
});
