import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import {
  AppPasswordHasher,
  appPasswordKey,
  createAppPassword,
  generateAppPassword,
  listAppPasswords,
  lookupOf,
  MAX_APP_PASSWORDS,
  revokeAppPassword,
} from "~/server/domain/app-passwords";
import { appPasswordStats } from "~/server/domain/app-password-stats";
import { createBouncer } from "~/server/domain/bouncers";
import type { Actor } from "~/server/domain/context";
import { DomainError } from "~/server/domain/errors";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

let world: World;
let alice: Actor;
let bob: Actor;
const hasher = new AppPasswordHasher(
  appPasswordKey({ AUTH_SECRET: "test-secret-test-secret-test-secret-0123" }),
);

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(async () => {
  for (const b of world.kube.objects.list("sojubouncers.irc.now", "irc-now").items)
    world.kube.objects.delete("sojubouncers.irc.now", "irc-now", b.metadata.name!);
  await world.db.delete(accounts.rateLimits);
  await world.db.delete(accounts.users);
  const a = await recordLogin(world.db, { subject: "kc-alice", username: "alice" });
  const b = await recordLogin(world.db, { subject: "kc-bob", username: "bob" });
  alice = { id: a.id, username: a.username, plan: a.plan };
  bob = { id: b.id, username: b.username, plan: b.plan };
});

describe("tokens and their hash", () => {
  it("are recognisable, carry ≥ 128 random bits, and are never stored", async () => {
    const { token, lookup } = generateAppPassword();
    expect(token).toMatch(/^ircnow_[0-9A-Za-z]{16}_[0-9A-Za-z]{32}$/);
    expect(lookupOf(token)).toBe(lookup);
    // 32 base62 characters of secret: 32 × log2(62) ≈ 190 bits.
    expect(32 * Math.log2(62)).toBeGreaterThanOrEqual(128);
    const many = new Set(Array.from({ length: 1000 }, () => generateAppPassword().token));
    expect(many.size).toBe(1000);

    const { token: shown, password } = await createAppPassword(world.ctx, hasher, alice, {
      label: "laptop weechat",
      expiresInDays: null,
      bouncer: null,
    });
    const [row] = await world.db
      .select()
      .from(accounts.appPasswords)
      .where(eq(accounts.appPasswords.id, password.id));
    expect(JSON.stringify(row)).not.toContain(shown.split("_")[2]);
    expect(row!.lookup).toBe(lookupOf(shown));
    expect(row!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(hasher.matches(shown, row!.secretHash)).toBe(true);
    expect(hasher.matches(`${shown.slice(0, -1)}x`, row!.secretHash)).toBe(false);
    // Another key (APP_PASSWORD_PEPPER set, or another AUTH_SECRET) matches nothing.
    const other = new AppPasswordHasher(
      appPasswordKey({ AUTH_SECRET: "x".repeat(32), APP_PASSWORD_PEPPER: "p".repeat(32) }),
    );
    expect(other.matches(shown, row!.secretHash)).toBe(false);
  });

  it("lookupOf refuses anything that is not exactly a token", () => {
    const { token } = generateAppPassword();
    for (const bad of [
      "",
      "ircnow_",
      token.slice(1),
      `${token}x`,
      token.replace("ircnow_", "irc_"),
    ])
      expect(lookupOf(bad)).toBeNull();
  });
});

describe("create, list, revoke", () => {
  it("lists the caller's own passwords with what the page shows, never the token", async () => {
    await createBouncer(world.ctx, alice, "alice");
    const a = await createAppPassword(world.ctx, hasher, alice, {
      label: "  phone goguma ",
      expiresInDays: 30,
      bouncer: "alice",
    });
    await createAppPassword(world.ctx, hasher, bob, {
      label: "bob's",
      expiresInDays: null,
      bouncer: null,
    });
    const list = await listAppPasswords(world.ctx, alice);
    expect(list).toEqual([
      {
        id: a.password.id,
        label: "phone goguma",
        bouncer: "alice",
        createdAt: expect.any(Date),
        expiresAt: expect.any(Date),
        expired: false,
        lastUsedAt: null,
        lastUsedFrom: null,
      },
    ]);
    const days = (list[0]!.expiresAt!.getTime() - list[0]!.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(30, 3);
    expect(JSON.stringify(list)).not.toContain(a.token);
  });

  it("refuses bad labels and expiries with the field's message", async () => {
    for (const [label, message] of [
      ["", "Enter a label, e.g. the device and client it is for."],
      ["x".repeat(65), "Use at most 64 characters."],
      ["tab\there", "Use only printable characters."],
      ["nul\u0000", "Use only printable characters."],
    ] as const) {
      await expect(
        createAppPassword(world.ctx, hasher, alice, { label, expiresInDays: null, bouncer: null }),
      ).rejects.toThrow(message);
    }
    await expect(
      createAppPassword(world.ctx, hasher, alice, {
        label: "ok",
        expiresInDays: 7 as 30,
        bouncer: null,
      }),
    ).rejects.toThrow("Choose never, 30, 90 or 365 days.");
    expect(await listAppPasswords(world.ctx, alice)).toEqual([]);
  });

  it("scopes only to one of the caller's own bouncers", async () => {
    await createBouncer(world.ctx, bob, "bobs");
    const error = await domainError(
      createAppPassword(world.ctx, hasher, alice, {
        label: "x",
        expiresInDays: null,
        bouncer: "bobs",
      }),
    );
    expect(error.kind).toBe("NOT_FOUND");
    expect(error.message).toBe('You have no bouncer named "bobs".');
  });

  it("caps each user at 20 with a clear error; revoking one makes room", async () => {
    await world.db.insert(accounts.appPasswords).values(
      Array.from({ length: MAX_APP_PASSWORDS }, (_, i) => ({
        userId: alice.id,
        label: `device ${i}`,
        lookup: `lookup-${i}`,
        secretHash: "00",
      })),
    );
    const full = await domainError(
      createAppPassword(world.ctx, hasher, alice, {
        label: "one more",
        expiresInDays: null,
        bouncer: null,
      }),
    );
    expect(full.kind).toBe("PRECONDITION_FAILED");
    expect(full.message).toBe(
      "You already have 20 app passwords, the most you can have. Revoke one you no longer use, then create the new one.",
    );
    // Bob is not affected by Alice's count.
    await createAppPassword(world.ctx, hasher, bob, {
      label: "b",
      expiresInDays: null,
      bouncer: null,
    });
    const first = (await listAppPasswords(world.ctx, alice)).find((p) => p.label === "device 0");
    expect(await revokeAppPassword(world.ctx, alice, first!.id)).toEqual({ revoked: "device 0" });
    const made = await createAppPassword(world.ctx, hasher, alice, {
      label: "one more",
      expiresInDays: null,
      bouncer: null,
    });
    expect(made.password.label).toBe("one more");
    expect((await listAppPasswords(world.ctx, alice)).map((p) => p.label)).not.toContain(
      "device 0",
    );
  });

  it("revokes only the caller's own, once", async () => {
    const b = await createAppPassword(world.ctx, hasher, bob, {
      label: "b",
      expiresInDays: null,
      bouncer: null,
    });
    expect((await domainError(revokeAppPassword(world.ctx, alice, b.password.id))).kind).toBe(
      "NOT_FOUND",
    );
    expect(await listAppPasswords(world.ctx, bob)).toHaveLength(1);
    await revokeAppPassword(world.ctx, bob, b.password.id);
    expect((await domainError(revokeAppPassword(world.ctx, bob, b.password.id))).message).toBe(
      "That app password does not exist any more.",
    );
    const [row] = await world.db.select().from(accounts.appPasswords);
    expect(row!.revokedAt).toBeInstanceOf(Date);
  });

  it("rate-limits creation per user (10 an hour), in the shared rate_limits table", async () => {
    for (let i = 0; i < 10; i++)
      await createAppPassword(world.ctx, hasher, alice, {
        label: `d${i}`,
        expiresInDays: null,
        bouncer: null,
      });
    const limited = await domainError(
      createAppPassword(world.ctx, hasher, alice, {
        label: "d10",
        expiresInDays: null,
        bouncer: null,
      }),
    );
    expect(limited.kind).toBe("RATE_LIMITED");
    expect(limited.message).toMatch(
      /^You have created many app passwords in a short time\. Please try again in \d+ minutes?\.$/,
    );
    expect(await listAppPasswords(world.ctx, alice)).toHaveLength(10);
    // Per user: bob still can.
    await createAppPassword(world.ctx, hasher, bob, {
      label: "b",
      expiresInDays: null,
      bouncer: null,
    });
    // Released when the window is over (simulated by ageing the shared counter row).
    await world.db.update(accounts.rateLimits).set({ expire: Date.now() - 1 });
    await createAppPassword(world.ctx, hasher, alice, {
      label: "d10",
      expiresInDays: null,
      bouncer: null,
    });
  });
});

describe("what admins see", () => {
  it("counts and the last login for a bouncer's owner, never a label, address or hash", async () => {
    expect(await appPasswordStats(world.ctx, "alice")).toEqual({
      known: false,
      live: 0,
      kept: 0,
      lastUsedAt: null,
    });
    await world.db.insert(accounts.bouncers).values([
      { namespace: "irc-now", name: "alice", uid: "u1", ownerId: alice.id, sojuUsername: "alice" },
      {
        namespace: "irc-now",
        name: "alice-2",
        uid: "u2",
        ownerId: alice.id,
        sojuUsername: "alice",
      },
    ]);
    expect(await appPasswordStats(world.ctx, "alice")).toEqual({
      known: true,
      live: 0,
      kept: 0,
      lastUsedAt: null,
    });
    const mk = (label: string, bouncer: string | null) =>
      world.db
        .insert(accounts.appPasswords)
        .values({ userId: alice.id, label, lookup: label, secretHash: "00", bouncer })
        .returning()
        .then((r) => r[0]!);
    const all = await mk("all", null);
    const other = await mk("other", "alice-2");
    const expired = await mk("expired", "alice");
    const revoked = await mk("revoked", "alice");
    await mk("bobs", null).then((r) =>
      world.db
        .update(accounts.appPasswords)
        .set({ userId: bob.id })
        .where(eq(accounts.appPasswords.id, r.id)),
    );
    const t = (s: string) => new Date(`2026-11-30T${s}Z`);
    const set = (id: string, v: Partial<accounts.AppPassword>) =>
      world.db.update(accounts.appPasswords).set(v).where(eq(accounts.appPasswords.id, id));
    await set(all.id, { lastUsedAt: t("10:00:00") });
    await set(other.id, { lastUsedAt: t("12:00:00") }); // another bouncer's: not this one's use
    await set(expired.id, { expiresAt: t("00:00:00") });
    await set(revoked.id, { revokedAt: t("00:00:00"), lastUsedAt: t("11:00:00") });
    expect(await appPasswordStats(world.ctx, "alice")).toEqual({
      known: true,
      live: 2,
      kept: 3,
      lastUsedAt: t("11:00:00"),
    });
    expect((await appPasswordStats(world.ctx, "alice-2")).lastUsedAt).toEqual(t("12:00:00"));
  });
});
