import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { reconcileSuspensions } from "@irc-now/billing";
import { accounts } from "@irc-now/db";
import { createBouncer, deleteBouncer, listMyBouncers } from "~/server/domain/bouncers";
import type { Actor } from "~/server/domain/context";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

// A bouncer suspended over its owner's plan (issue 14): the owner's view says so, why and how to
// resume; deleting another bouncer resumes the oldest suspended one.
let world: World;
let alice: Actor;

const suspendedNames = async () =>
  (
    await world.db
      .select({ name: accounts.bouncers.name })
      .from(accounts.bouncers)
      .where(
        and(
          eq(accounts.bouncers.ownerId, alice.id),
          eq(accounts.bouncers.suspendedReason, "over_quota"),
        ),
      )
  )
    .map((r) => r.name)
    .sort();

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  const a = await recordLogin(world.db, { subject: "kc-susp-alice", username: "alice" });
  await world.db.update(accounts.users).set({ plan: "pro" }).where(eq(accounts.users.id, a.id));
  alice = { id: a.id, username: a.username, plan: "pro" };
  // Created one after the other: a-… is the oldest (ties are broken by name as well).
  for (const name of ["a-first", "b-second", "c-third"])
    await createBouncer(world.ctx, alice, name);
  // Pro is lost: the plan goes back to free and the two newest are suspended.
  await world.db
    .update(accounts.users)
    .set({ plan: "free" })
    .where(eq(accounts.users.id, alice.id));
  alice = { ...alice, plan: "free" };
  await world.db.transaction((tx) => reconcileSuspensions(tx, alice.id, 1));
});
afterAll(async () => {
  await world?.stop();
});

describe("suspended bouncers in the owner's view", () => {
  it("says which are suspended, since when, why and how to resume them", async () => {
    expect(await suspendedNames()).toEqual(["b-second", "c-third"]);
    const views = await listMyBouncers(world.ctx, alice);
    const byName = new Map(views.map((v) => [v.name, v]));
    expect(byName.get("a-first")!.suspension).toBeNull();
    for (const name of ["b-second", "c-third"]) {
      const s = byName.get(name)!.suspension!;
      expect(s.since).toBeInstanceOf(Date);
      expect(Date.now() - s.since.getTime()).toBeLessThan(60_000);
      expect(s.text).toBe("Your free plan includes 1 bouncer; this one is suspended");
      expect(s.advice).toMatch(/upgrade to pro or delete another bouncer to resume it/);
      expect(s.upgrade).toBe(true);
    }
  });

  it("ignores a suspension row of an earlier bouncer of the same name (another uid)", async () => {
    await world.db
      .update(accounts.bouncers)
      .set({ uid: "uid-of-an-earlier-namesake" })
      .where(eq(accounts.bouncers.name, "c-third"));
    try {
      const views = await listMyBouncers(world.ctx, alice);
      expect(views.find((v) => v.name === "c-third")!.suspension).toBeNull();
    } finally {
      const cr = await world.ctx.bouncers.get("c-third");
      await world.db
        .update(accounts.bouncers)
        .set({ uid: cr!.metadata.uid! })
        .where(eq(accounts.bouncers.name, "c-third"));
    }
  });

  it("resumes the oldest suspended bouncer when another one is deleted", async () => {
    await deleteBouncer(world.ctx, alice, "a-first", "a-first");
    expect(await suspendedNames()).toEqual(["c-third"]);
    const views = await listMyBouncers(world.ctx, alice);
    expect(views.find((v) => v.name === "b-second")!.suspension).toBeNull();
    expect(views.find((v) => v.name === "c-third")!.suspension).not.toBeNull();
  });
});
