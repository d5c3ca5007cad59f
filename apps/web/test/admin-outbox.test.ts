import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { recordLogin } from "~/server/domain/users";
import { sessionFor, trpcError, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// The admin console's Keycloak outbox view (adminOutbox router) over the real accounts DB.

let world: World;
let adminId: string;
let aliceId: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
  adminId = (await recordLogin(world.db, { subject: "kc-admin", username: "admin" })).id;
  aliceId = (await recordLogin(world.db, { subject: "kc-alice", username: "alice" })).id;
  // What the worker leaves behind, one user per case.
  const rows: Record<string, Partial<typeof accounts.keycloakOutbox.$inferInsert>> = {
    bob: { attempts: 3, lastError: "unavailable: Keycloak GET /users/{id}: connection refused" },
    carol: { createdAt: sql`now() - interval '20 minutes'` as unknown as Date },
    dave: {
      attempts: 1,
      lastError: "not_found: Keycloak GET /users/{id}: 404",
      nextAttemptAt: sql`'infinity'::timestamptz` as unknown as Date,
    },
    erin: { attempts: 2, lastError: "unavailable: timeout" },
  };
  for (const [username, values] of Object.entries(rows)) {
    const [user] = await world.db
      .insert(accounts.users)
      .values({ keycloakSubject: `kc-${username}`, username })
      .returning();
    ids[username] = user!.id;
    await world.db.insert(accounts.keycloakOutbox).values({
      userId: user!.id,
      reason: "profile",
      lastAttemptAt: values.attempts ? new Date() : null,
      ...values,
    });
  }
});
afterAll(async () => {
  await world?.stop();
});

const admin = () => createCaller(createTRPCContext(sessionFor(adminId, "admin", true)));

describe("admin: Keycloak outbox", () => {
  it("refuses users without the admin role", async () => {
    const alice = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    expect((await trpcError(alice.adminOutbox.stuck())).code).toBe("FORBIDDEN");
    expect((await trpcError(alice.adminOutbox.retry({ userId: ids.dave! }))).code).toBe(
      "FORBIDDEN",
    );
    const [held] = await world.db
      .select({ held: sql<boolean>`${accounts.keycloakOutbox.nextAttemptAt} = 'infinity'` })
      .from(accounts.keycloakOutbox)
      .where(eq(accounts.keycloakOutbox.userId, ids.dave!));
    expect(held!.held).toBe(true); // untouched
  });

  it("lists stuck items: held first, then by age; not the ones still retrying normally", async () => {
    const { items, pending } = await admin().adminOutbox.stuck();
    expect(items.map((i) => i.username)).toEqual(["dave", "carol", "bob"]);
    expect(pending).toBe(6); // two sign-ins, four cases
    expect(items[0]).toMatchObject({
      userId: ids.dave,
      held: true,
      attempts: 1,
      nextAttemptAt: null,
      reasons: ["profile"],
      lastError: expect.stringMatching(/^not_found/),
    });
    expect(items[1]!.ageS).toBeGreaterThanOrEqual(20 * 60 - 5);
    expect(items[2]).toMatchObject({ username: "bob", attempts: 3, held: false });
    expect(items[2]!.nextAttemptAt).toBeInstanceOf(Date);
  });

  it("retry makes the user's rows due now, wakes the worker and is audited", async () => {
    const listener = new pg.Client({ connectionString: world.databaseUrl });
    await listener.connect();
    const woken = new Promise<string>((resolve) =>
      listener.on("notification", (n) => resolve(n.channel)),
    );
    await listener.query("LISTEN irc_now_keycloak_outbox");
    try {
      const entry = await admin().adminOutbox.retry({ userId: ids.dave! });
      expect(entry).toMatchObject({
        actorUserId: adminId,
        actorUsername: "admin",
        action: "keycloak_outbox.retry",
        target: `keycloak-outbox/user/${ids.dave}`,
        details: { username: "dave", rows: 1, attempts: 1, held: true },
      });
      expect(await woken).toBe("irc_now_keycloak_outbox");
    } finally {
      await listener.end();
    }
    const [row] = await world.db
      .select()
      .from(accounts.keycloakOutbox)
      .where(eq(accounts.keycloakOutbox.userId, ids.dave!));
    expect(row!.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(row!.attempts).toBe(1); // history kept
    const audit = await admin().admin.audit({});
    expect(audit.rows[0]).toMatchObject({ action: "keycloak_outbox.retry" });
    expect((await admin().adminOutbox.stuck()).items.map((i) => i.username)).toEqual([
      "carol",
      "bob",
    ]);
  });

  it("answers NOT_FOUND when nothing waits any more, BAD_REQUEST for a malformed id", async () => {
    await world.db
      .update(accounts.keycloakOutbox)
      .set({ deliveredAt: new Date() })
      .where(eq(accounts.keycloakOutbox.userId, ids.bob!));
    const gone = await trpcError(admin().adminOutbox.retry({ userId: ids.bob! }));
    expect(gone.code).toBe("NOT_FOUND");
    expect(gone.message).toMatch(/Nothing is waiting/);
    expect((await trpcError(admin().adminOutbox.retry({ userId: "bob" }))).code).toBe(
      "BAD_REQUEST",
    );
  });
});
