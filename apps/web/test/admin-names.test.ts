import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { bouncerNameSchema, existingBouncerNameSchema } from "~/server/domain/names";
import { recordLogin } from "~/server/domain/users";
import { isAdminBouncerName } from "../app/admin/_components/bouncer-name";
import { sessionFor, trpcError, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// One rule per audience: admins address any Kubernetes object name, users create only names the
// user rule allows. The admin detail page used the user rule and 404ed on reserved/dotted names.
let world: World;
let adminId: string;
let aliceId: string;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
  adminId = (await recordLogin(world.db, { subject: "kc-admin", username: "admin" })).id;
  aliceId = (await recordLogin(world.db, { subject: "kc-alice", username: "alice" })).id;
  // Made outside the portal (another tool, an operator by hand): names users cannot pick.
  for (const name of ["nickserv", "a.b", "admin"])
    await world.ctx.bouncers.create({ name, username: "alice", plan: "free", ownerId: aliceId });
});
afterAll(async () => {
  await world?.stop();
});

describe("names per audience", () => {
  it.each(["nickserv", "a.b", "admin", "x", "a-b.c-d.e", "a".repeat(253)])(
    "admins may address %j",
    (name) => expect(existingBouncerNameSchema.safeParse(name).success).toBe(true),
  );

  it.each(["a..b", ".a", "a.", "A", "-a", "a-", "a.-b", "a_b", "a".repeat(254), ""])(
    "admins may not address %j (no Kubernetes object can have it)",
    (name) => expect(existingBouncerNameSchema.safeParse(name).success).toBe(false),
  );

  it.each(["nickserv", "chanserv", "a.b", "admin"])("users may not create %j", (name) =>
    expect(bouncerNameSchema.safeParse(name).success).toBe(false),
  );
});

describe("admin detail of a bouncer users could not have named", () => {
  it.each(["nickserv", "a.b", "admin"])("renders for %j", async (name) => {
    // The page's own check (it answered 404 before asking the server).
    expect(isAdminBouncerName(name)).toBe(true);
    const admin = createCaller(createTRPCContext(sessionFor(adminId, "admin", true)));
    const detail = await admin.admin.bouncer({ name });
    expect(detail.bouncer).toMatchObject({ name, username: "alice", ownerId: aliceId });
    const entry = await admin.admin.retry({ name, reason: "checking the admin name rule" });
    expect(entry.target).toBe(`sojubouncer/irc-now/${name}`);
  });

  it("answers 404 for a name no Kubernetes object can have, and NOT_FOUND for a missing one", async () => {
    expect(isAdminBouncerName("a..b")).toBe(false);
    const admin = createCaller(createTRPCContext(sessionFor(adminId, "admin", true)));
    expect((await trpcError(admin.admin.bouncer({ name: "a..b" }))).code).toBe("BAD_REQUEST");
    expect((await trpcError(admin.admin.bouncer({ name: "missing.one" }))).code).toBe("NOT_FOUND");
  });

  it("the user router still refuses to create them", async () => {
    const bob = (await recordLogin(world.db, { subject: "kc-bob", username: "bob" })).id;
    const user = createCaller(createTRPCContext(sessionFor(bob, "bob")));
    for (const name of ["nickserv", "a.b", "admin"]) {
      const error = await trpcError(user.bouncer.create({ name }));
      expect(error.code).toBe("BAD_REQUEST");
    }
    expect((await user.bouncer.mine()).bouncers).toEqual([]);
  });
});
