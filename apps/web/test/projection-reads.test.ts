import { sql } from "drizzle-orm";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import {
  isDeleting,
  LABEL_OWNER,
  projectedResource,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_KIND,
  type SojuBouncer,
} from "@irc-now/k8s";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import {
  forgetProjectionFreshness,
  isFresh,
  projectedBouncersOf,
  projectionSyncedAt,
  recordCreated,
  recordDeleting,
  STALE_AFTER_MS,
} from "~/server/domain/projection-reads";

const NS = "irc-now";

function cr(name: string, owner: string, uid: string, rv = "1"): SojuBouncer {
  return {
    apiVersion: SOJU_BOUNCER_API_VERSION,
    kind: SOJU_BOUNCER_KIND,
    metadata: {
      name,
      namespace: NS,
      uid,
      resourceVersion: rv,
      labels: { [LABEL_OWNER]: owner },
      creationTimestamp: new Date("2026-11-30T12:00:00Z").toISOString(),
    },
    spec: { username: name, plan: "free" },
  } as SojuBouncer;
}

describe("the dashboard's read path over the bouncers projection", () => {
  let db: AccountsDb;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    const url = await createTestDatabase(inject("postgresUrl"), "web");
    await migrateAccounts(url);
    db = createAccountsDb(url);
    const users = await db
      .insert(accounts.users)
      .values([
        { keycloakSubject: "kc-pr-alice", username: "alice" },
        { keycloakSubject: "kc-pr-bob", username: "bob" },
      ])
      .returning();
    alice = users[0]!.id;
    bob = users[1]!.id;
  });
  afterAll(async () => {
    await db?.$client.end();
  });
  beforeEach(async () => {
    forgetProjectionFreshness();
    await db.execute(sql`DELETE FROM bouncers`);
    await db.execute(sql`DELETE FROM projection_heartbeats`);
  });

  it("is trusted only while a worker replica has confirmed its watch recently", async () => {
    expect(await projectionSyncedAt(db)).toBeNull();
    expect(isFresh(null)).toBe(false);

    await db.insert(accounts.projectionHeartbeats).values({ replica: "w-1" });
    forgetProjectionFreshness();
    const syncedAt = await projectionSyncedAt(db);
    expect(syncedAt).toBeInstanceOf(Date);
    expect(isFresh(syncedAt)).toBe(true);
    expect(isFresh(syncedAt, syncedAt!.getTime() + STALE_AFTER_MS + 1)).toBe(false);
  });

  it("returns the owner's bouncers only, and never one whose label names someone else", async () => {
    await recordCreated(db, NS, alice, cr("alice", alice, "u-a"));
    await recordCreated(db, NS, bob, cr("bob", bob, "u-b"));
    // A row the projection attributes to alice whose CR says otherwise (a relabelled CR).
    await db.insert(accounts.bouncers).values({
      namespace: NS,
      name: "odd",
      uid: "u-odd",
      ownerId: alice,
      sojuUsername: "odd",
      resource: projectedResource(cr("odd", bob, "u-odd")),
    });
    const mine = await projectedBouncersOf(db, NS, alice);
    expect(mine?.map((b) => b.metadata.name)).toEqual(["alice"]);
    expect(mine?.[0]?.metadata.uid).toBe("u-a");
  });

  it("answers null (ask Kubernetes) when a row has no stored resource yet", async () => {
    await db
      .insert(accounts.bouncers)
      .values({ namespace: NS, name: "old", uid: "u-old", ownerId: alice, sojuUsername: "old" });
    expect(await projectedBouncersOf(db, NS, alice)).toBeNull();
  });

  it("shows a create at once, without overwriting what the watch wrote since", async () => {
    await recordCreated(db, NS, alice, cr("alice", alice, "u-1", "10"));
    // The watch saw a newer version of the same CR…
    await db.execute(
      sql`UPDATE bouncers SET resource_version = '12', resource = jsonb_set(resource, '{metadata,resourceVersion}', '"12"') WHERE name = 'alice'`,
    );
    // …and a retried create of the same CR must not put the old one back.
    await recordCreated(db, NS, alice, cr("alice", alice, "u-1", "10"));
    expect((await projectedBouncersOf(db, NS, alice))?.[0]?.metadata.resourceVersion).toBe("12");

    // A namesake created after a deletion the watch has not removed yet replaces the old row.
    await recordCreated(db, NS, alice, cr("alice", alice, "u-2", "20"));
    expect((await projectedBouncersOf(db, NS, alice))?.[0]?.metadata.uid).toBe("u-2");
  });

  it("shows a delete at once as deleting, for that uid only", async () => {
    await recordCreated(db, NS, alice, cr("alice", alice, "u-1"));
    await recordDeleting(db, NS, "alice", "u-other");
    expect(isDeleting((await projectedBouncersOf(db, NS, alice))![0]!)).toBe(false);
    await recordDeleting(db, NS, "alice", "u-1");
    expect(isDeleting((await projectedBouncersOf(db, NS, alice))![0]!)).toBe(true);
  });
});
