import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { authOptions, signInRefusal } from "~/server/auth/options";
import { recordLogin } from "~/server/domain/users";
import { sessionFor, trpcError, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

let world: World;
let aliceId: string;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world, {
    ERGO_ADMIN_NICK: "Portal-Bot",
  });
  aliceId = (await recordLogin(world.db, { subject: "kc-alice", username: "alice" })).id;
});
afterAll(async () => {
  await world?.stop();
});

describe("tRPC procedure tiers", () => {
  it("refuses signed-out callers with UNAUTHORIZED", async () => {
    const caller = createCaller(createTRPCContext(null));
    expect((await trpcError(caller.bouncer.mine())).code).toBe("UNAUTHORIZED");
  });

  it("refuses a session whose user no longer exists", async () => {
    const caller = createCaller(
      createTRPCContext(sessionFor("00000000-0000-4000-8000-000000000000", "ghost")),
    );
    expect((await trpcError(caller.bouncer.mine())).code).toBe("UNAUTHORIZED");
  });

  it("refuses non-admins on every admin procedure with FORBIDDEN", async () => {
    const caller = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    const calls = [
      () => caller.admin.bouncers({}),
      () => caller.admin.audit({}),
      () => caller.admin.stats({}),
      () => caller.admin.retry({ name: "alice", reason: "because" }),
      () => caller.admin.adoptAccount({ name: "alice", reason: "because" }),
    ];
    for (const call of calls) expect((await trpcError(call())).code).toBe("FORBIDDEN");
  });

  it("serves the signed-in user's bouncers and maps domain errors to typed codes", async () => {
    const caller = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    const created = await caller.bouncer.create({ name: "alice" });
    expect(created.phase).toBe("provisioning");
    expect((await caller.bouncer.mine()).bouncers.map((b) => b.name)).toEqual(["alice"]);
    const quota = await trpcError(caller.bouncer.create({ name: "alice-2" }));
    expect(quota.code).toBe("PRECONDITION_FAILED");
    expect(quota.message).toMatch(/free plan includes 1 bouncer/);
    const confirm = await trpcError(caller.bouncer.delete({ name: "alice", confirmName: "nope" }));
    expect(confirm.code).toBe("BAD_REQUEST");
  });

  it("validates input with messages a person understands", async () => {
    const caller = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    const error = await trpcError(caller.bouncer.create({ name: "Not A Label" }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/lowercase letters, digits and hyphens/);
  });

  it("lets admins list everything and retry", async () => {
    const caller = createCaller(createTRPCContext(sessionFor(aliceId, "alice", true)));
    const list = await caller.admin.bouncers({ sort: "name" });
    expect(list.rows.map((r) => r.name)).toContain("alice");
    const entry = await caller.admin.retry({ name: "alice", reason: "testing retry" });
    expect(entry).toMatchObject({ actorUsername: "alice", reason: "testing retry" });
    expect((await caller.admin.audit({})).total).toBeGreaterThanOrEqual(1);
  });
});

describe("sign-in refuses usernames irc.now can never set up on IRC", () => {
  const signIn = (preferred_username: string) =>
    authOptions().callbacks!.signIn!({
      user: { id: "kc-x" },
      account: null,
      profile: { sub: "kc-x", preferred_username } as never,
    });

  it("sends ergo's service names, its guest pattern and the configured oper nick to the error page", async () => {
    expect(await signIn("NickServ")).toBe("/auth/error?error=UsernameReserved&reason=service-name");
    expect(await signIn("Guest-Carol")).toBe(
      "/auth/error?error=UsernameReserved&reason=guest-pattern",
    );
    // ERGO_ADMIN_NICK is read from the web's configuration.
    expect(await signIn("portal-bot")).toBe("/auth/error?error=UsernameReserved&reason=admin-nick");
    expect(await signIn("9lives")).toBe("/auth/error?error=Username");
    expect(await signIn("alice")).toBe(true);
    expect(await signIn("irc-now-admin")).toBe(true); // not the oper nick here
    expect(signInRefusal("irc-now-admin", "irc-now-admin")).toBe(
      "/auth/error?error=UsernameReserved&reason=admin-nick",
    );
  });

  it("gives no bouncer to a session from before the rule", async () => {
    const id = (await recordLogin(world.db, { subject: "kc-bot", username: "portal-bot" })).id;
    const caller = createCaller(createTRPCContext(sessionFor(id, "portal-bot")));
    const error = await trpcError(caller.bouncer.create({ name: "bot" }));
    expect(error.code).toBe("PRECONDITION_FAILED");
    expect(error.message).toMatch(/reserved on the irc.now IRC network/);
  });
});

describe("needs admin over tRPC", () => {
  it("never sends the worker's error to the user; admins get it and adopt the account", async () => {
    const bob = (await recordLogin(world.db, { subject: "kc-bob", username: "bob" })).id;
    const user = createCaller(createTRPCContext(sessionFor(bob, "bob")));
    await user.bouncer.create({ name: "bob" });
    const cr = world.kube.objects.get("sojubouncers.irc.now", "irc-now", "bob");
    world.kube.objects.patch(
      "sojubouncers.irc.now",
      "irc-now",
      "bob",
      {
        status: { conditions: [{ type: "Ready", status: "True", reason: "Running", message: "" }] },
      },
      { subresource: "status" },
    );
    await world.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: "irc-now",
      bouncer: "bob",
      bouncerUid: cr.metadata.uid!,
      attemptNo: 1,
      stepReached: "ensure_ergo_account",
      outcome: "needs_admin",
      error: 'ergo account "bob" already exists and the portal does not own it; it was not reset.',
    });
    const { bouncers } = await user.bouncer.mine();
    expect(bouncers[0]).toMatchObject({
      phase: "needs_admin",
      lastAttempt: { outcome: "needs_admin", step: "ensure_ergo_account" },
    });
    expect(bouncers[0]!.lastAttempt).not.toHaveProperty("error");
    expect(JSON.stringify(bouncers)).not.toContain("does not own");
    expect(JSON.stringify(await user.bouncer.byName({ name: "bob" }))).not.toContain(
      "does not own",
    );

    const adminCaller = createCaller(createTRPCContext(sessionFor(aliceId, "alice", true)));
    const detail = await adminCaller.admin.bouncer({ name: "bob" });
    expect(detail.bouncer.lastAttempt?.error).toMatch(/does not own/);
    expect(detail.ergoAccount).toMatchObject({
      account: "bob",
      owner: { username: "bob" },
      adopt: { offered: true },
    });
    expect(
      (await adminCaller.admin.bouncers({ phase: "needs_admin" })).rows.map((r) => r.name),
    ).toEqual(["bob"]);
    expect((await adminCaller.admin.stats({})).byPhase.needs_admin).toBe(1);

    const tooShort = await trpcError(
      adminCaller.admin.adoptAccount({ name: "bob", reason: " x " }),
    );
    expect(tooShort.code).toBe("BAD_REQUEST");
    const entry = await adminCaller.admin.adoptAccount({
      name: "bob",
      reason: "bob's own account",
    });
    expect(entry).toMatchObject({ action: "ergo_account.adopt", details: { account: "bob" } });
    const again = await trpcError(adminCaller.admin.adoptAccount({ name: "bob", reason: "again" }));
    expect(again.code).toBe("PRECONDITION_FAILED");
    expect(again.message).toMatch(/already owns the ergo account "bob"/);
  });
});
