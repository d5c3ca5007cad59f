import { and, eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "../src/index";
import { migrateAccounts } from "../src/migrate";
import { createTestDatabase } from "../src/testing/index";

const CHANNEL = "irc_now_bouncer_changes";

describe("bouncer change notifications (migration 0004)", () => {
  let db: AccountsDb;
  let listener: pg.Client;
  const received: { owner: string; namespace: string; name: string }[] = [];
  let ownerId: string;

  /** Waits until `n` notifications arrived, or fails with what did. */
  async function nextNotifications(n: number) {
    const deadline = Date.now() + 5_000;
    while (received.length < n && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    // Everything in flight arrives with the commit; give a duplicate the chance to show up.
    await new Promise((r) => setTimeout(r, 100));
    return received.splice(0);
  }

  beforeAll(async () => {
    const url = await createTestDatabase(inject("postgresUrl"), "accounts");
    await migrateAccounts(url);
    db = createAccountsDb(url);
    listener = new pg.Client({ connectionString: url });
    await listener.connect();
    listener.on("notification", (m) => {
      if (m.channel === CHANNEL) received.push(JSON.parse(m.payload ?? "{}"));
    });
    await listener.query(`LISTEN ${CHANNEL}`);
    const [owner] = await db
      .insert(accounts.users)
      .values({ keycloakSubject: "kc-notify", username: "notify" })
      .returning();
    ownerId = owner!.id;
  });

  afterAll(async () => {
    await listener?.end();
    await db?.$client.end();
  });

  const key = { namespace: "irc-now", name: "notify" };
  const whereKey = and(
    eq(accounts.bouncers.namespace, key.namespace),
    eq(accounts.bouncers.name, key.name),
  );

  it("announces projection inserts, updates and deletes to the owner", async () => {
    await db
      .insert(accounts.bouncers)
      .values({ ...key, uid: "u1", ownerId, sojuUsername: "notify" });
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);

    await db.update(accounts.bouncers).set({ observedAt: new Date() }).where(whereKey);
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);
  });

  it("announces setup attempts and visible upstream state changes, not a re-check that changed nothing", async () => {
    await db.insert(accounts.bouncerSetupAttempts).values({
      namespace: key.namespace,
      bouncer: key.name,
      bouncerUid: "u1",
      attemptNo: 1,
      stepReached: "read_secret",
    });
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);

    await db.insert(accounts.bouncerUpstreamStates).values({
      namespace: key.namespace,
      bouncer: key.name,
      bouncerUid: "u1",
      state: "unauthenticated",
    });
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);

    const upstreamKey = and(
      eq(accounts.bouncerUpstreamStates.namespace, key.namespace),
      eq(accounts.bouncerUpstreamStates.bouncer, key.name),
    );
    // The periodic verifier's unchanged result: only checked_at moves.
    await db
      .update(accounts.bouncerUpstreamStates)
      .set({ checkedAt: new Date() })
      .where(upstreamKey);
    expect(await nextNotifications(0)).toEqual([]);

    await db
      .update(accounts.bouncerUpstreamStates)
      .set({ state: "authenticated", account: "notify", checkedAt: new Date() })
      .where(upstreamKey);
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);
  });

  it("says nothing for a rolled-back change or a bouncer without an owner, and once per transaction", async () => {
    await db
      .transaction(async (tx) => {
        await tx.update(accounts.bouncers).set({ observedAt: new Date() }).where(whereKey);
        throw new Error("roll back");
      })
      .catch(() => undefined);
    await db.insert(accounts.bouncers).values({
      namespace: "irc-now",
      name: "orphan",
      uid: "u9",
      ownerId: null,
      sojuUsername: "orphan",
    });
    expect(await nextNotifications(0)).toEqual([]);

    await db.transaction(async (tx) => {
      await tx.update(accounts.bouncers).set({ observedAt: new Date() }).where(whereKey);
      await tx.update(accounts.bouncers).set({ observedAt: new Date() }).where(whereKey);
    });
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);

    await db.delete(accounts.bouncers).where(whereKey);
    expect(await nextNotifications(1)).toEqual([{ owner: ownerId, ...key }]);
  });
});
