import { eq } from "drizzle-orm";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { keycloakUserState } from "@irc-now/keycloak";
import { defaultOutboxSettings } from "../../src/keycloak-outbox/ports";
import { startOutboxDrain } from "../../src/keycloak-outbox/runner";
import { outboxMetrics } from "../../src/metrics/outbox-metrics";
import { createWorkerMetrics } from "../../src/metrics/worker-metrics";
import { until } from "../support/harness";
import { startOutboxWorld, type OutboxWorld } from "./support";

// Acceptance (issue 13): Keycloak down for 30 s while 20 users save their profile several times
// (each save: the user's row and enqueueKeycloakSync in one transaction, as the web does). The
// leader's drain runs as in main.ts (LISTEN + poll, the real admin client, the real metrics);
// only the backoff cap is lowered to 10 s so that the test does not wait minutes after the
// outage (the cap itself is tested in drain.test.ts with the production default).

const USERS = 20;
const ROUNDS = 3;

let world: OutboxWorld;
beforeAll(async () => {
  world = await startOutboxWorld(inject("postgresUrl"), "outbox_outage");
});
afterAll(async () => {
  await world?.stop();
});

async function gauge(registry: Registry, name: string, labels = ""): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

describe("Keycloak outage during profile saves", () => {
  it("loses nothing: after 30 s down, every user ends with their newest attributes", async () => {
    const users = await Promise.all(
      Array.from({ length: USERS }, (_, i) => world.addUser(`outage-user-${i}`)),
    );
    const registry = new Registry();
    const metrics = outboxMetrics(createWorkerMetrics(registry));
    const drain = startOutboxDrain({
      deps: {
        store: world.store,
        keycloak: world.keycloak,
        metrics,
        log: world.log,
        settings: { ...defaultOutboxSettings, retryCapMs: 10_000 },
      },
      databaseUrl: world.databaseUrl,
      pollMs: 1_000,
      onStopped: () => metrics.reset(),
    });
    try {
      const outage = await world.kc.outage();
      const down = Date.now();
      try {
        for (let round = 1; round <= ROUNDS; round++) {
          await Promise.all(
            users.map((u, i) =>
              world.save(u.userId, {
                displayName: `User${i} Round ${round}`,
                plan: (i + round) % 2 === 0 ? "pro" : "free",
                contentAutoExpire: (i * round) % 3 !== 0,
              }),
            ),
          );
          await new Promise((r) => setTimeout(r, 9_000));
        }
        // Every save is waiting, and the leader's gauges say so.
        const depth = await until(
          async () => (await gauge(registry, "irc_now_keycloak_outbox_pending")) === USERS * ROUNDS,
          "the depth gauge to count every save",
        );
        expect(depth).toBe(true);
        expect(
          await gauge(registry, "irc_now_keycloak_outbox_oldest_pending_age_seconds"),
        ).toBeGreaterThan(20);
        expect(
          await gauge(registry, "irc_now_keycloak_outbox_pushes_total", '{result="unavailable"}'),
        ).toBeGreaterThan(0);
        expect(
          await gauge(registry, "irc_now_keycloak_outbox_pushes_total", '{result="delivered"}'),
        ).toBe(0);
        for (const u of users) expect(world.kc.getUser(u.kcId)!.attributes.plan).toBeUndefined();
        await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
      } finally {
        await outage.restore();
      }

      await until(
        async () => (await world.rows()).every((r) => r.deliveredAt !== null),
        "every row delivered after Keycloak returned",
        60_000,
      );
      await until(
        async () => (await gauge(registry, "irc_now_keycloak_outbox_pending")) === 0,
        "the depth gauge back to 0",
      );
      expect(await gauge(registry, "irc_now_keycloak_outbox_oldest_pending_age_seconds")).toBe(0);
      expect(
        await gauge(registry, "irc_now_keycloak_outbox_pushes_total", '{result="delivered"}'),
      ).toBeGreaterThanOrEqual(USERS);
    } finally {
      await drain.stop();
    }

    // No row lost: every save's row is there, delivered.
    const rows = await world.rows();
    expect(rows).toHaveLength(USERS * ROUNDS);
    for (const u of users) {
      expect(rows.filter((r) => r.userId === u.userId)).toHaveLength(ROUNDS);
      const [row] = await world.db
        .select()
        .from(accounts.users)
        .where(eq(accounts.users.id, u.userId));
      const want = keycloakUserState(row!);
      const got = world.kc.getUser(u.kcId)!;
      expect(row!.displayName).toMatch(new RegExp(`Round ${ROUNDS}$`));
      expect({
        firstName: got.firstName,
        lastName: got.lastName,
        attributes: got.attributes,
      }).toEqual({
        firstName: want.firstName,
        lastName: want.lastName,
        attributes: { locale: ["de"], ...want.attributes },
      });
    }
  }, 180_000);
});
