import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import type { KeycloakAdmin } from "@irc-now/keycloak";
import { updateProfile } from "~/server/domain/profile";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

// A login queues a Keycloak push in the same transaction as the user upsert, and never puts back
// Keycloak's old display name over one the user saved in the portal.
let world: World;

// Saving a name alone needs no admin call; any call would fail the test.
const noAdminCalls: KeycloakAdmin = new Proxy({} as KeycloakAdmin, {
  get: (_, method) => () => Promise.reject(new Error(`unexpected Keycloak call ${String(method)}`)),
});

const outboxOf = (userId: string) =>
  world.db
    .select()
    .from(accounts.keycloakOutbox)
    .where(eq(accounts.keycloakOutbox.userId, userId))
    .orderBy(accounts.keycloakOutbox.id);

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
});
afterAll(async () => {
  await world?.stop();
});

describe("recordLogin and the Keycloak outbox", () => {
  it("queues one pending `login` row per login, in the login's transaction", async () => {
    const first = await recordLogin(world.db, { subject: "kc-ls-1", username: "lsone" });
    expect((await outboxOf(first.id)).map((r) => [r.reason, r.deliveredAt])).toEqual([
      ["login", null],
    ]);
    await recordLogin(world.db, { subject: "kc-ls-1", username: "lsone" });
    expect((await outboxOf(first.id)).map((r) => r.reason)).toEqual(["login", "login"]);
  });

  it("writes no row when the login is refused (a username taken by another subject)", async () => {
    await recordLogin(world.db, { subject: "kc-ls-2", username: "lstwo" });
    const before = await world.db.select().from(accounts.keycloakOutbox);
    await expect(
      recordLogin(world.db, { subject: "kc-ls-2-other", username: "lstwo" }),
    ).rejects.toThrow(/already belongs/);
    expect(await world.db.select().from(accounts.keycloakOutbox)).toHaveLength(before.length);
  });

  it("takes the display name and email from Keycloak until the user saves a profile", async () => {
    const user = await recordLogin(world.db, {
      subject: "kc-ls-3",
      username: "lsthree",
      email: "three@example.org",
      displayName: "Three Old",
    });
    const again = await recordLogin(world.db, {
      subject: "kc-ls-3",
      username: "lsthree",
      email: "three-new@example.org",
      displayName: "Three Renamed In Keycloak",
    });
    expect(again.id).toBe(user.id);
    expect(again).toMatchObject({
      email: "three-new@example.org",
      displayName: "Three Renamed In Keycloak",
    });
  });

  it("keeps a display name the user saved while its push is pending (Keycloak still has the old one)", async () => {
    const user = await recordLogin(world.db, {
      subject: "kc-ls-4",
      username: "lsfour",
      email: "four@example.org",
      displayName: "Four Old",
    });
    const result = await updateProfile({ db: world.db, keycloak: noAdminCalls }, user, {
      displayName: "Four New",
      email: "four@example.org",
      contentAutoExpire: true,
    });
    expect(result).toMatchObject({ saved: true, fieldErrors: {} });
    // The worker has not pushed yet: Keycloak's token still says "Four Old".
    const pending = await world.db
      .select()
      .from(accounts.keycloakOutbox)
      .where(
        and(
          eq(accounts.keycloakOutbox.userId, user.id),
          eq(accounts.keycloakOutbox.reason, "profile"),
        ),
      );
    expect(pending.map((r) => r.deliveredAt)).toEqual([null]);
    const after = await recordLogin(world.db, {
      subject: "kc-ls-4",
      username: "lsfour",
      email: "four-kc@example.org",
      displayName: "Four Old",
    });
    expect(after.displayName).toBe("Four New");
    // Keycloak still owns the email.
    expect(after.email).toBe("four-kc@example.org");
    expect((await outboxOf(user.id)).map((r) => r.reason)).toEqual(["login", "profile", "login"]);
  });
});
