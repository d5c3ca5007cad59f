import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { accounts, createAccountsDb } from "../src/index";
import { migrateAccounts } from "../src/migrate";
import { createTestDatabase } from "../src/testing/index";

async function schemaSnapshot(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`
      SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
      FROM information_schema.columns
      WHERE table_schema IN ('public', 'drizzle')
      ORDER BY 1, 2, 3`);
    const migrations = await client.query(
      `SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id`,
    );
    return JSON.stringify({ rows, migrations: migrations.rows });
  } finally {
    await client.end();
  }
}

describe("accounts DB migrations", () => {
  let url: string;
  beforeAll(async () => {
    url = await createTestDatabase(inject("postgresUrl"), "accounts");
  });

  it("apply to an empty database and a second run changes nothing", async () => {
    await migrateAccounts(url);
    const first = await schemaSnapshot(url);
    expect(first).toContain('"table_name":"users"');
    expect(first).toContain('"table_name":"bouncer_setup_attempts"');
    expect(first).toContain('"table_name":"processed_stripe_events"');
    expect(first).toContain('"table_name":"admin_audit_log"');
    await migrateAccounts(url);
    expect(await schemaSnapshot(url)).toBe(first);
  });

  it("concurrent migrators do not trip over each other", async () => {
    const fresh = await createTestDatabase(inject("postgresUrl"), "accounts");
    await Promise.all([migrateAccounts(fresh), migrateAccounts(fresh), migrateAccounts(fresh)]);
    const client = new pg.Client({ connectionString: fresh });
    await client.connect();
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations",
    );
    await client.end();
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it("the schema works through Drizzle: defaults, uniqueness and cascades", async () => {
    await migrateAccounts(url);
    const db = createAccountsDb(url);
    try {
      const [alice] = await db
        .insert(accounts.users)
        .values({ keycloakSubject: "kc-sub-alice", username: "alice", email: "alice@example.org" })
        .returning();
      expect(alice).toMatchObject({
        plan: "free",
        contentAutoExpire: true,
        loginCount: 0,
        lastLoginAt: null,
      });

      await expect(
        db.insert(accounts.users).values({ keycloakSubject: "kc-sub-other", username: "alice" }),
      ).rejects.toMatchObject({
        cause: expect.objectContaining({ constraint: "users_username_key" }),
      });

      await db.insert(accounts.bouncerSetupAttempts).values({
        namespace: "irc-now",
        bouncer: "alice",
        bouncerUid: "uid-1",
        attemptNo: 1,
        stepReached: "read_secret",
      });
      await expect(
        db.insert(accounts.bouncerSetupAttempts).values({
          namespace: "irc-now",
          bouncer: "alice",
          bouncerUid: "uid-1",
          attemptNo: 1,
          stepReached: "done",
        }),
      ).rejects.toMatchObject({
        cause: expect.objectContaining({ constraint: "bouncer_setup_attempts_uid_attempt_uq" }),
      });
      // A later bouncer of the same name (another uid) starts its own history at attempt 1.
      await db.insert(accounts.bouncerSetupAttempts).values({
        namespace: "irc-now",
        bouncer: "alice",
        bouncerUid: "uid-2",
        attemptNo: 1,
        stepReached: "read_secret",
        outcome: "needs_admin",
      });

      // ergo accounts: one owner each, gone with the owner's user row.
      const [owner] = await db
        .insert(accounts.users)
        .values({ keycloakSubject: "kc-sub-owner", username: "owner" })
        .returning();
      await db
        .insert(accounts.ergoAccounts)
        .values({ account: "owner", ownerUserId: owner!.id, origin: "registered" });
      await expect(
        db
          .insert(accounts.ergoAccounts)
          .values({ account: "owner", ownerUserId: owner!.id, origin: "adopted" }),
      ).rejects.toMatchObject({
        cause: expect.objectContaining({ constraint: "ergo_accounts_pkey" }),
      });
      await db.delete(accounts.users).where(eq(accounts.users.id, owner!.id));
      expect(await db.select().from(accounts.ergoAccounts)).toEqual([]);

      const inserted = await db
        .insert(accounts.processedStripeEvents)
        .values({ eventId: "evt_1", type: "checkout.session.completed" })
        .onConflictDoNothing()
        .returning();
      const again = await db
        .insert(accounts.processedStripeEvents)
        .values({ eventId: "evt_1", type: "checkout.session.completed" })
        .onConflictDoNothing()
        .returning();
      expect([inserted.length, again.length]).toEqual([1, 0]);

      await db.insert(accounts.adminAuditLog).values({
        actorUserId: alice!.id,
        actorUsername: "alice",
        action: "bouncer.retry",
        target: "sojubouncer/irc-now/bob",
        reason: "stuck",
      });
      await db.delete(accounts.users).where(eq(accounts.users.id, alice!.id));
      const [entry] = await db.select().from(accounts.adminAuditLog);
      expect(entry).toMatchObject({ actorUserId: null, actorUsername: "alice", details: {} });

      await expect(db.execute(sql`UPDATE users SET login_count = -1`)).resolves.toBeDefined();
      await db.insert(accounts.users).values({ keycloakSubject: "kc-b", username: "bob" });
      await expect(db.execute(sql`UPDATE users SET login_count = -1`)).rejects.toMatchObject({
        cause: expect.objectContaining({ constraint: "users_login_count_non_negative" }),
      });
    } finally {
      await db.$client.end();
    }
  });
});
