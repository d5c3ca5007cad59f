import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import type { KeycloakAdmin, KeycloakUserState } from "@irc-now/keycloak";
import { drainOutbox } from "../../src/keycloak-outbox/drain";
import { defaultOutboxSettings, type OutboxDeps } from "../../src/keycloak-outbox/ports";
import { startOutboxDrain } from "../../src/keycloak-outbox/runner";
import { until } from "../support/harness";
import { recordingMetrics, startOutboxWorld, type OutboxWorld } from "./support";

// The drain over the real accounts DB and the real admin client against the Keycloak stand-in.

let world: OutboxWorld;
beforeAll(async () => {
  world = await startOutboxWorld(inject("postgresUrl"), "outbox_drain");
});
afterAll(async () => {
  await world?.stop();
});

function depsWith(keycloak: Pick<KeycloakAdmin, "pushUserState"> = world.keycloak) {
  const metrics = recordingMetrics();
  const deps: OutboxDeps = {
    store: world.store,
    keycloak,
    metrics,
    log: world.log,
    settings: defaultOutboxSettings,
  };
  return { deps, metrics };
}

const inKeycloak = (kcId: string) => {
  const u = world.kc.getUser(kcId)!;
  return { firstName: u.firstName, lastName: u.lastName, attributes: u.attributes };
};

let n = 0;
const fresh = () => world.addUser(`user${++n}-${randomUUID().slice(0, 6)}`);

describe("keycloak outbox drain", () => {
  it("pushes the user's current state, keeps unrelated attributes and settles the row", async () => {
    const { userId, kcId } = await fresh();
    await world.save(userId, {
      displayName: "Ada Lovelace",
      plan: "pro",
      contentAutoExpire: false,
    });
    const { deps, metrics } = depsWith();
    await drainOutbox(deps);
    expect(inKeycloak(kcId)).toEqual({
      firstName: "Ada",
      lastName: "Lovelace",
      attributes: { locale: ["de"], plan: ["pro"], content_expires: ["false"] },
    });
    const [row] = await world.rows(userId);
    expect(row!.deliveredAt).toBeInstanceOf(Date);
    expect(row!.attempts).toBe(0);
    expect(metrics.results).toEqual(["delivered"]);
  });

  it("waits for an email change holding the user's Keycloak lock, then pushes what it committed", async () => {
    // Without the lock the push read and wrote the Keycloak user while the web was changing the
    // email, and could write the old email back (the push PUTs the whole user).
    const { userId, kcId } = await fresh();
    await world.save(userId, { displayName: "Before Change" });
    const pushes: string[] = [];
    const watching: Pick<KeycloakAdmin, "pushUserState"> = {
      async pushUserState(id: string, state: KeycloakUserState) {
        pushes.push(state.firstName);
        await world.keycloak.pushUserState(id, state);
      },
    };
    const { deps } = depsWith(watching);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // The web's email change: lock, (Keycloak call), update the row, commit.
    const change = world.db.transaction(async (tx) => {
      await accounts.lockKeycloakUser(tx, userId);
      locked();
      await held;
      await tx
        .update(accounts.users)
        .set({ displayName: "After Change" })
        .where(eq(accounts.users.id, userId));
    });
    await lockTaken;
    const drained = drainOutbox(deps);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushes).toEqual([]);
    release();
    await change;
    await drained;
    expect(pushes).toEqual(["After"]);
    expect(inKeycloak(kcId)).toMatchObject({ firstName: "After", lastName: "Change" });
  });

  it("two saves in quick succession end with the second, settled by one push", async () => {
    const { userId, kcId } = await fresh();
    await world.save(userId, { displayName: "First" });
    await world.save(userId, { displayName: "Second Name", plan: "pro" });
    const { deps, metrics } = depsWith();
    await drainOutbox(deps);
    expect(inKeycloak(kcId)).toMatchObject({ firstName: "Second", lastName: "Name" });
    expect(inKeycloak(kcId).attributes.plan).toEqual(["pro"]);
    expect((await world.rows(userId)).every((r) => r.deliveredAt)).toBe(true);
    expect(metrics.results).toEqual(["delivered"]);
  });

  it("a retry after an outage pushes the newest state, never the one that failed", async () => {
    const { userId, kcId } = await fresh();
    await world.save(userId, { displayName: "Old Value" });
    const outage = await world.kc.outage();
    const { deps, metrics } = depsWith();
    try {
      await drainOutbox(deps);
      const [failed] = await world.rows(userId);
      expect(failed).toMatchObject({ attempts: 1, deliveredAt: null });
      expect(failed!.lastError).toMatch(/^unavailable: /);
      expect(failed!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
      await world.save(userId, { displayName: "New Value", plan: "pro" });
    } finally {
      await outage.restore();
    }
    await drainOutbox(deps); // the new row is due: one push of the state as it is now
    expect(inKeycloak(kcId)).toMatchObject({ firstName: "New", lastName: "Value" });
    expect(inKeycloak(kcId).attributes.plan).toEqual(["pro"]);
    expect((await world.rows(userId)).map((r) => r.deliveredAt !== null)).toEqual([true, true]);
    expect(metrics.results).toEqual(["unavailable", "delivered"]);
    await drainOutbox(deps);
    expect(metrics.results).toHaveLength(2); // nothing left to push
  });

  it("a change committed while a push is in flight stays pending and wins on the next pass", async () => {
    const { userId, kcId } = await fresh();
    await world.save(userId, { displayName: "Before" });
    let raced = false;
    const racing: Pick<KeycloakAdmin, "pushUserState"> = {
      async pushUserState(id: string, state: KeycloakUserState) {
        if (!raced) {
          raced = true;
          await world.save(userId, { displayName: "After" }); // commits before this push lands
        }
        return world.keycloak.pushUserState(id, state);
      },
    };
    const { deps } = depsWith(racing);
    await drainOutbox(deps);
    expect(inKeycloak(kcId).firstName).toBe("Before");
    expect((await world.rows(userId)).map((r) => r.deliveredAt !== null)).toEqual([true, false]);
    await drainOutbox(deps);
    expect(inKeycloak(kcId).firstName).toBe("After");
    expect((await world.rows(userId)).every((r) => r.deliveredAt)).toBe(true);
  });

  it("pushes each user's states in order, one push per user at a time, several users at once", async () => {
    const users = await Promise.all(Array.from({ length: 6 }, fresh));
    const inFlight = new Map<string, number>();
    let maxPerUser = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    const pushed = new Map<string, number[]>();
    const observing: Pick<KeycloakAdmin, "pushUserState"> = {
      async pushUserState(id, state) {
        inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
        maxPerUser = Math.max(maxPerUser, inFlight.get(id)!);
        maxConcurrent = Math.max(maxConcurrent, ++concurrent);
        try {
          await new Promise((r) => setTimeout(r, 15));
          await world.keycloak.pushUserState(id, state);
          pushed.set(id, [...(pushed.get(id) ?? []), Number(state.lastName)]);
        } finally {
          concurrent--;
          inFlight.set(id, inFlight.get(id)! - 1);
        }
      },
    };
    const { deps } = depsWith(observing);
    const drain = startOutboxDrain({ deps, databaseUrl: world.databaseUrl, pollMs: 50 });
    try {
      for (let v = 1; v <= 5; v++) {
        await Promise.all(users.map((u) => world.save(u.userId, { displayName: `Version ${v}` })));
        await new Promise((r) => setTimeout(r, 10));
      }
      const pending = async () =>
        (await world.rows()).filter(
          (r) => users.some((u) => u.userId === r.userId) && !r.deliveredAt,
        ).length;
      await until(async () => (await pending()) === 0, "every row delivered");
    } finally {
      await drain.stop();
    }
    expect(maxPerUser).toBe(1);
    expect(maxConcurrent).toBeGreaterThan(1);
    for (const u of users) {
      const versions = pushed.get(u.kcId)!;
      expect(versions, u.kcId).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1)).toBe(5);
      expect(inKeycloak(u.kcId)).toMatchObject({ firstName: "Version", lastName: "5" });
    }
  });

  it("a stopping drain finishes the push in flight and starts no other", async () => {
    const users = await Promise.all(Array.from({ length: 3 }, fresh));
    for (const u of users) await world.save(u.userId, { displayName: "Stop Test" });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started = 0;
    const slow: Pick<KeycloakAdmin, "pushUserState"> = {
      async pushUserState(id, state) {
        started++;
        await released;
        return world.keycloak.pushUserState(id, state);
      },
    };
    const { deps } = depsWith(slow);
    const drain = startOutboxDrain({
      deps: { ...deps, settings: { ...defaultOutboxSettings, concurrency: 1 } },
      pollMs: 60_000,
    });
    await until(() => started === 1, "the first push to start");
    const stopped = drain.stop();
    release();
    await stopped;
    expect(started).toBe(1);
    const pending = (await world.rows()).filter(
      (r) => users.some((u) => u.userId === r.userId) && !r.deliveredAt,
    );
    expect(pending).toHaveLength(2); // the other two wait for the next leader
    await drainOutbox(depsWith().deps); // which pushes them
  });

  it("backs off exponentially after each failure, never longer than the cap", async () => {
    const { userId } = await fresh();
    await world.save(userId, { displayName: "Backoff" });
    const outage = await world.kc.outage();
    const { deps } = depsWith();
    const delayOf = async () => {
      const [r] = await world.rows(userId);
      return r!.nextAttemptAt.getTime() - r!.lastAttemptAt!.getTime();
    };
    try {
      await drainOutbox(deps);
      const first = await delayOf();
      expect(first).toBeGreaterThanOrEqual(1_000 - 5);
      expect(first).toBeLessThanOrEqual(2_000 + 5);
      // Many failures later (attempts as a long outage leaves them), due again now:
      await world.db
        .update(accounts.keycloakOutbox)
        .set({ attempts: 40, nextAttemptAt: sql`now()` })
        .where(eq(accounts.keycloakOutbox.userId, userId));
      await drainOutbox(deps);
      const capped = await delayOf();
      expect(capped).toBeGreaterThanOrEqual(150_000 - 5);
      expect(capped).toBeLessThanOrEqual(300_000 + 5);
      expect((await world.rows(userId))[0]!.attempts).toBe(41);
    } finally {
      await outage.restore();
    }
  });

  it("holds a user Keycloak does not have (not_found) until an admin retries", async () => {
    const subject = randomUUID();
    const username = `ghost-${subject.slice(0, 6)}`;
    const [user] = await world.db
      .insert(accounts.users)
      .values({ keycloakSubject: subject, username })
      .returning();
    await world.save(user!.id, { displayName: "Ghost" });
    const { deps, metrics } = depsWith();
    const report = await drainOutbox(deps);
    const [held] = await world.rows(user!.id);
    expect(held).toMatchObject({ attempts: 1, deliveredAt: null });
    expect(held!.lastError).toMatch(/^not_found: /);
    expect(report.stats.held).toBeGreaterThanOrEqual(1);
    expect(await world.store.dueUsers(1_000)).not.toContain(user!.id);
    await drainOutbox(deps);
    expect(metrics.results).toEqual(["not_found"]); // not retried by itself

    // The admin's retry (apps/web admin-outbox: next_attempt_at = now()) after the user exists.
    world.kc.addUser({ id: subject, username });
    await world.db
      .update(accounts.keycloakOutbox)
      .set({ nextAttemptAt: sql`now()` })
      .where(eq(accounts.keycloakOutbox.userId, user!.id));
    await drainOutbox(deps);
    expect(metrics.results).toEqual(["not_found", "delivered"]);
    expect(world.kc.getUser(subject)!.firstName).toBe("Ghost");
  });

  it("settles without a push the rows of a user whose account is being deleted", async () => {
    const { userId, kcId } = await fresh();
    await world.db.insert(accounts.accountDeletions).values({ userId, keycloakSubject: kcId });
    await world.save(userId, { displayName: "Leaving", plan: "pro" });
    const { deps, metrics } = depsWith();
    await drainOutbox(deps);
    expect(metrics.results).toEqual(["skipped"]);
    expect(inKeycloak(kcId)).toMatchObject({ attributes: { locale: ["de"] } });
    expect(inKeycloak(kcId).attributes.plan).toBeUndefined();
    const [row] = await world.rows(userId);
    expect(row!.deliveredAt).toBeInstanceOf(Date);
    expect(row!.lastError).toMatch(/being deleted/);
  });

  it("prunes rows delivered more than 7 days ago, and only those", async () => {
    const { userId } = await fresh();
    for (let i = 0; i < 3; i++) await world.save(userId, { displayName: `Prune ${i}` });
    const [old, recent, pending] = await world.rows(userId);
    const set = (id: number, values: Partial<typeof accounts.keycloakOutbox.$inferInsert>) =>
      world.db
        .update(accounts.keycloakOutbox)
        .set(values)
        .where(eq(accounts.keycloakOutbox.id, id));
    await set(old!.id, { deliveredAt: sql`now() - interval '8 days'` as unknown as Date });
    await set(recent!.id, { deliveredAt: sql`now() - interval '6 days'` as unknown as Date });
    await set(pending!.id, { createdAt: sql`now() - interval '9 days'` as unknown as Date });
    expect(await world.store.prune(7 * 86_400_000)).toBe(1);
    expect((await world.rows(userId)).map((r) => r.id)).toEqual([recent!.id, pending!.id]);
  });
});
