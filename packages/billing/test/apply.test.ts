import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import {
  applySubscription,
  OVER_QUOTA,
  reevaluatePlan,
  type BillingSettings,
  type SubscriptionSnapshot,
} from "../src/apply";

// Over a real, migrated accounts DB.

const settings: BillingSettings = { graceDays: 7, quotaFree: 1, quotaPro: 3 };
const DAY = 86_400_000;
let db: AccountsDb;

beforeAll(async () => {
  const url = await createTestDatabase(inject("postgresUrl"), "billing");
  await migrateAccounts(url);
  db = createAccountsDb(url);
});
afterAll(async () => {
  await db?.$client.end();
});

async function user(plan: "free" | "pro" = "free"): Promise<string> {
  const name = `u${randomUUID().slice(0, 8)}`;
  const [row] = await db
    .insert(accounts.users)
    .values({ keycloakSubject: randomUUID(), username: name, plan })
    .returning();
  return row!.id;
}

/** A projected bouncer created `day` days after an epoch (older first). */
async function bouncer(
  ownerId: string,
  name: string,
  day: number,
  extra: { deleting?: boolean } = {},
) {
  const created = new Date(Date.UTC(2026, 0, 1) + day * DAY).toISOString();
  const resource = {
    metadata: {
      name,
      creationTimestamp: created,
      ...(extra.deleting ? { deletionTimestamp: created } : {}),
    },
  };
  await db.insert(accounts.bouncers).values({
    namespace: "irc-now",
    name,
    uid: randomUUID(),
    ownerId,
    sojuUsername: name,
    resource,
  });
}

const suspendedNames = async (ownerId: string) =>
  (
    await db
      .select({ name: accounts.bouncers.name, reason: accounts.bouncers.suspendedReason })
      .from(accounts.bouncers)
      .where(
        sql`${accounts.bouncers.ownerId} = ${ownerId} AND ${accounts.bouncers.suspendedAt} IS NOT NULL`,
      )
      .orderBy(accounts.bouncers.name)
  ).map((r) => `${r.name}:${r.reason}`);

const outboxReasons = async (userId: string) =>
  (
    await db
      .select({ reason: accounts.keycloakOutbox.reason })
      .from(accounts.keycloakOutbox)
      .where(eq(accounts.keycloakOutbox.userId, userId))
  ).map((r) => r.reason);

const sub = (status: string, extra: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot => ({
  id: "sub_1",
  customerId: `cus_${randomUUID().slice(0, 8)}`,
  status,
  cancelAtPeriodEnd: false,
  periodEnd: new Date("2027-01-01T00:00:00Z"),
  ...extra,
});

const apply = (userId: string, s: SubscriptionSnapshot | null, now = new Date()) =>
  db.transaction((tx) => applySubscription(tx, userId, s, now, settings));

describe("applySubscription", () => {
  it("active → pro with the subscription's columns and one outbox row; the same again changes nothing", async () => {
    const id = await user();
    const s = sub("active", { cancelAtPeriodEnd: true });
    expect(await apply(id, s)).toMatchObject({ planBefore: "free", planAfter: "pro" });
    const [row] = await db.select().from(accounts.users).where(eq(accounts.users.id, id));
    expect(row).toMatchObject({
      plan: "pro",
      stripeCustomerId: s.customerId,
      stripeSubscriptionId: "sub_1",
      stripeSubscriptionStatus: "active",
      subscriptionCancelAtPeriodEnd: true,
      subscriptionPeriodEnd: s.periodEnd,
      pastDueSince: null,
    });
    expect(await apply(id, s)).toMatchObject({ planBefore: "pro", planAfter: "pro" });
    expect(await outboxReasons(id)).toEqual(["plan"]);
  });

  it("losing pro suspends the newest bouncers over the free quota; regaining it resumes them", async () => {
    const id = await user();
    await bouncer(id, `${id.slice(0, 6)}-a`, 1);
    await bouncer(id, `${id.slice(0, 6)}-c`, 3);
    await bouncer(id, `${id.slice(0, 6)}-b`, 2);
    await apply(id, sub("active"));
    const lost = await apply(id, sub("canceled"));
    expect(lost).toMatchObject({ planAfter: "free" });
    expect(lost!.suspended.sort()).toEqual([`${id.slice(0, 6)}-b`, `${id.slice(0, 6)}-c`]);
    expect(await suspendedNames(id)).toEqual([
      `${id.slice(0, 6)}-b:${OVER_QUOTA}`,
      `${id.slice(0, 6)}-c:${OVER_QUOTA}`,
    ]);
    const back = await apply(id, sub("active"));
    expect(back!.resumed.sort()).toEqual([`${id.slice(0, 6)}-b`, `${id.slice(0, 6)}-c`]);
    expect(await suspendedNames(id)).toEqual([]);
    expect(await outboxReasons(id)).toEqual(["plan", "plan", "plan"]);
  });

  it("a bouncer being deleted does not count against the quota", async () => {
    const id = await user();
    await bouncer(id, `${id.slice(0, 6)}-a`, 1, { deleting: true });
    await bouncer(id, `${id.slice(0, 6)}-b`, 2);
    await apply(id, sub("active"));
    expect((await apply(id, sub("canceled")))!.suspended).toEqual([]);
  });

  it("past_due keeps pro from the FIRST failure for the grace days; the scheduled re-evaluation then drops it", async () => {
    const id = await user();
    const t0 = new Date("2026-12-01T00:00:00Z");
    await apply(id, sub("active"), t0);
    await apply(id, sub("past_due"), t0);
    // A later failure of the same run does not extend the grace.
    await apply(id, sub("past_due"), new Date(t0.getTime() + 3 * DAY));
    const [row] = await db.select().from(accounts.users).where(eq(accounts.users.id, id));
    expect(row!.pastDueSince).toEqual(t0);
    const during = await db.transaction((tx) =>
      reevaluatePlan(tx, id, new Date(t0.getTime() + 6 * DAY), settings),
    );
    expect(during).toMatchObject({
      planAfter: "pro",
      graceEndsAt: new Date(t0.getTime() + 7 * DAY),
    });
    const after = await db.transaction((tx) =>
      reevaluatePlan(tx, id, new Date(t0.getTime() + 7 * DAY), settings),
    );
    expect(after).toMatchObject({ planBefore: "pro", planAfter: "free" });
    // Paid again: the run of failures is over.
    await apply(id, sub("active"), new Date(t0.getTime() + 8 * DAY));
    const [paid] = await db.select().from(accounts.users).where(eq(accounts.users.id, id));
    expect(paid).toMatchObject({ plan: "pro", pastDueSince: null });
  });

  it("concurrent applications about one user run one after the other (the user row is locked)", async () => {
    const id = await user();
    await bouncer(id, `${id.slice(0, 6)}-a`, 1);
    await bouncer(id, `${id.slice(0, 6)}-b`, 2);
    await apply(id, sub("active"));
    const results = await Promise.all([apply(id, sub("canceled")), apply(id, sub("canceled"))]);
    // Exactly one of them saw the change; the bouncer is suspended once.
    expect(results.map((r) => r!.planBefore).sort()).toEqual(["free", "pro"]);
    expect(results.flatMap((r) => r!.suspended)).toEqual([`${id.slice(0, 6)}-b`]);
  });

  it("returns null for a user that does not exist", async () => {
    expect(await apply(randomUUID(), sub("active"))).toBeNull();
  });
});
