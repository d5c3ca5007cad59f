import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED, LABEL_MANAGED_BY, LABEL_OWNER } from "@irc-now/k8s";
import type { Actor } from "~/server/domain/context";
import {
  createBouncer,
  deleteBouncer,
  getMyBouncer,
  listMyBouncers,
} from "~/server/domain/bouncers";
import {
  adminStats,
  adoptErgoAccount,
  auditLog,
  bouncerDetail,
  listAllBouncers,
  retryBouncerSetup,
} from "~/server/domain/admin";
import { DomainError } from "~/server/domain/errors";
import { bouncerNameSchema } from "~/server/domain/names";
import { loadSetupRecords } from "~/server/domain/status";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

const ns = "irc-now";
let world: World;
let alice: Actor;
let bob: Actor;

async function expectDomainError(
  promise: Promise<unknown>,
  kind: DomainError["kind"],
  message?: RegExp,
) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).kind).toBe(kind);
  if (message) expect((error as DomainError).message).toMatch(message);
}

function setReady(
  name: string,
  status: "True" | "False",
  message = "",
  reason = status === "True" ? "Running" : "Starting",
) {
  world.kube.objects.patch(
    "sojubouncers.irc.now",
    ns,
    name,
    {
      status: {
        conditions: [
          { type: "Ready", status, reason, message, lastTransitionTime: new Date().toISOString() },
        ],
      },
    },
    { subresource: "status" },
  );
}

/** The CR's uid: the key of its setup history. */
const uidOf = (name: string) =>
  world.kube.objects.get("sojubouncers.irc.now", ns, name).metadata.uid!;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
});
afterAll(async () => {
  await world?.stop();
});
beforeEach(async () => {
  for (const b of world.kube.objects.list("sojubouncers.irc.now", ns).items)
    world.kube.objects.delete("sojubouncers.irc.now", ns, b.metadata.name!);
  await world.db.delete(accounts.adminAuditLog);
  await world.db.delete(accounts.bouncerSetupAttempts);
  await world.db.delete(accounts.bouncerUpstreamStates);
  await world.db.delete(accounts.ergoAccounts);
  await world.db.delete(accounts.users);
  world.kube.faults.reset();
  const a = await recordLogin(world.db, {
    subject: "kc-alice",
    username: "alice",
    email: "alice@example.org",
    displayName: "Alice",
  });
  const b = await recordLogin(world.db, {
    subject: "kc-bob",
    username: "Bob",
    email: "bob@example.org",
  });
  alice = { id: a.id, username: a.username, plan: a.plan };
  bob = { id: b.id, username: b.username, plan: b.plan };
});

describe("sign-in bookkeeping", () => {
  it("creates the user on first login and counts every login", async () => {
    const again = await recordLogin(world.db, {
      subject: "kc-alice",
      username: "alice",
      email: "alice@new.example",
      displayName: "Alice A.",
    });
    expect(again.id).toBe(alice.id);
    expect(again).toMatchObject({
      loginCount: 2,
      email: "alice@new.example",
      displayName: "Alice A.",
      plan: "free",
    });
    expect(again.lastLoginAt).toBeInstanceOf(Date);
    expect(bob.username).toBe("bob"); // lowercased: it becomes a soju username and ergo account
  });

  it("refuses a username another account already has, and one IRC cannot use", async () => {
    await expectDomainError(
      recordLogin(world.db, { subject: "kc-other", username: "alice" }),
      "CONFLICT",
      /already belongs/,
    );
    await expectDomainError(
      recordLogin(world.db, { subject: "kc-x", username: "9lives" }),
      "BAD_REQUEST",
      /cannot be used on IRC/,
    );
  });
});

describe("bouncer names", () => {
  it.each([
    ["", /Enter a name/],
    ["Alice", /lowercase/],
    ["-alice", /Start with/],
    ["alice-", /End with/],
    ["a".repeat(64), /at most 63/],
    ["admin", /reserved/],
    ["al ice", /lowercase/],
  ])("rejects %j with a clear message", (name, message) => {
    const result = bouncerNameSchema.safeParse(name);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(message);
  });

  it("accepts DNS-1123 labels", () => {
    expect(bouncerNameSchema.parse("alice-2")).toBe("alice-2");
  });
});

describe("users' bouncers", () => {
  it("creates a SojuBouncer with owner label and spec, idempotently", async () => {
    const view = await createBouncer(world.ctx, alice, "alice");
    expect(view).toMatchObject({
      name: "alice",
      username: "alice",
      plan: "free",
      phase: "provisioning",
      ready: false,
      configured: false,
    });
    expect(view.connection).toEqual({
      host: "alice.bouncer.irc.now",
      port: 6697,
      tls: true,
      username: "alice",
    });
    const cr = world.kube.objects.get("sojubouncers.irc.now", ns, "alice");
    expect(cr.metadata.labels).toMatchObject({
      [LABEL_OWNER]: alice.id,
      [LABEL_MANAGED_BY]: "irc-now-portal",
    });
    expect((cr as unknown as { spec: unknown }).spec).toEqual({ username: "alice", plan: "free" });

    const twice = await createBouncer(world.ctx, alice, "alice");
    expect(twice.name).toBe("alice");
    expect(world.kube.objects.list("sojubouncers.irc.now", ns).items).toHaveLength(1);
  });

  it("enforces the plan's quota, with a message that says what to do", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await expectDomainError(
      createBouncer(world.ctx, alice, "alice-2"),
      "PRECONDITION_FAILED",
      /free plan includes 1 bouncer/,
    );
    const pro: Actor = { ...alice, plan: "pro" };
    await createBouncer(world.ctx, pro, "alice-2");
    await createBouncer(world.ctx, pro, "alice-3");
    await expectDomainError(
      createBouncer(world.ctx, pro, "alice-4"),
      "PRECONDITION_FAILED",
      /pro plan includes 3 bouncers/,
    );
  });

  it("does not let two concurrent submissions slip under the quota", async () => {
    const results = await Promise.allSettled([
      createBouncer(world.ctx, alice, "one"),
      createBouncer(world.ctx, alice, "two"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(world.kube.objects.list("sojubouncers.irc.now", ns).items).toHaveLength(1);
  });

  it("never shows or changes another user's bouncer", async () => {
    await createBouncer(world.ctx, alice, "alice");
    expect(await listMyBouncers(world.ctx, bob)).toEqual([]);
    await expectDomainError(getMyBouncer(world.ctx, bob, "alice"), "NOT_FOUND");
    await expectDomainError(deleteBouncer(world.ctx, bob, "alice", "alice"), "NOT_FOUND");
    await expectDomainError(createBouncer(world.ctx, bob, "alice"), "CONFLICT", /already taken/);
    expect(world.kube.objects.find("sojubouncers.irc.now", ns, "alice")).toBeDefined();
  });

  it("deletes only when the name is typed to confirm", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await expectDomainError(
      deleteBouncer(world.ctx, alice, "alice", "alcie"),
      "BAD_REQUEST",
      /Type "alice" to confirm/,
    );
    expect(await deleteBouncer(world.ctx, alice, "alice", "alice")).toEqual({ deleted: "alice" });
    expect(world.kube.objects.find("sojubouncers.irc.now", ns, "alice")).toBeUndefined();
  });

  it("walks provisioning → ready → configured → authenticated, and explains problems", async () => {
    await createBouncer(world.ctx, alice, "alice");
    setReady("alice", "False", "soju pod is pulling its image");
    let [view] = await listMyBouncers(world.ctx, alice);
    // Still on its way: progress in our words, not the operator's, and not a problem.
    expect(view).toMatchObject({
      phase: "provisioning",
      problem: null,
      detail: "Starting your bouncer",
    });
    setReady("alice", "False", "database quota exceeded", "ProvisioningFailed");
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "provisioning",
      problem: {
        step: "Starting your bouncer",
        text: "Your bouncer could not start.",
        action: "wait",
        advice: expect.stringMatching(/We retry automatically/),
      },
    });
    // Admins get the operator's own words.
    expect((await listAll()).rows[0]!.problem).toBe(
      "Your bouncer could not start: database quota exceeded",
    );

    setReady("alice", "True");
    await world.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: ns,
      bouncer: "alice",
      bouncerUid: uidOf("alice"),
      attemptNo: 1,
      stepReached: "ensure_ergo_account",
      outcome: "failed",
      error: "ergo unavailable",
    });
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "ready",
      ready: true,
      lastAttempt: { attemptNo: 1, outcome: "failed", step: "ensure_ergo_account" },
    });
    expect(view!.problem).toMatchObject({
      step: "Creating your irc.now IRC account",
      text: "Setting up the irc.now network stopped while creating your irc.now IRC account.",
      action: "wait",
    });

    world.kube.objects.patch("sojubouncers.irc.now", ns, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } },
    });
    await world.db.insert(accounts.bouncerUpstreamStates).values({
      namespace: ns,
      bouncer: "alice",
      bouncerUid: uidOf("alice"),
      state: "unauthenticated",
    });
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "configured",
      configured: true,
      problem: {
        text: "Your bouncer is connected to irc.now but is not logged in to your account.",
        action: "contact_support",
      },
    });

    await world.db
      .update(accounts.bouncerUpstreamStates)
      .set({ state: "authenticated", account: "alice" })
      .where(eq(accounts.bouncerUpstreamStates.bouncer, "alice"));
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "authenticated",
      problem: null,
      upstream: { state: "authenticated", account: "alice" },
    });
  });
});

describe("setup records", () => {
  it("shows each bouncer's latest attempt and its upstream state, from its own namespace only", async () => {
    await createBouncer(world.ctx, alice, "alice");
    setReady("alice", "True");
    const startedAt = new Date("2026-01-02T03:04:05.678Z");
    const uid = uidOf("alice");
    await world.db.insert(accounts.bouncerSetupAttempts).values([
      {
        namespace: ns,
        bouncer: "alice",
        bouncerUid: uid,
        attemptNo: 1,
        stepReached: "ensure_ergo_account",
        outcome: "failed",
        error: "ergo unavailable",
      },
      {
        namespace: ns,
        bouncer: "alice",
        bouncerUid: uid,
        attemptNo: 3,
        stepReached: "apply_soju_network",
        outcome: "failed",
        error: "soju restarting",
        startedAt,
        finishedAt: startedAt,
      },
      {
        namespace: ns,
        bouncer: "alice",
        bouncerUid: uid,
        attemptNo: 2,
        stepReached: "choose_password",
        outcome: "failed",
        error: "older",
      },
      {
        namespace: "elsewhere",
        bouncer: "alice",
        bouncerUid: "uid-elsewhere",
        attemptNo: 9,
        stepReached: "done",
        outcome: "succeeded",
      },
    ]);
    await world.db.insert(accounts.bouncerUpstreamStates).values({
      namespace: "elsewhere",
      bouncer: "alice",
      bouncerUid: uid,
      state: "authenticated",
      account: "alice",
    });
    const [row] = (await listAll()).rows;
    expect(row!.lastAttempt).toEqual({
      attemptNo: 3,
      outcome: "failed",
      step: "apply_soju_network",
      error: "soju restarting",
      startedAt,
      finishedAt: startedAt,
    });
    expect(row!.upstream).toBeNull();
    expect(row!.problem).toMatch(/failed while adding the irc.now network/);
    // The owner sees the same attempt, without the worker's text.
    const [view] = await listMyBouncers(world.ctx, alice);
    expect(view!.lastAttempt).toEqual({
      attemptNo: 3,
      outcome: "failed",
      step: "apply_soju_network",
      startedAt,
      finishedAt: startedAt,
    });
    expect(view!.problem?.text).toMatch(/stopped while adding the irc.now network/);
  });

  it("reads records for many bouncers at once, and none for a bouncer without any", async () => {
    await createBouncer(world.ctx, bob, "bob");
    const names = Array.from({ length: 300 }, (_, i) => `b${i}`);
    await world.db.insert(accounts.bouncerUpstreamStates).values(
      names.map((bouncer) => ({
        namespace: ns,
        bouncer,
        bouncerUid: `uid-${bouncer}`,
        state: "authenticated" as const,
        account: bouncer,
      })),
    );
    const { attempts, upstreams } = await loadSetupRecords(world.db, ns, [
      ...names.map((name) => ({ name, uid: `uid-${name}` })),
      { name: "bob", uid: uidOf("bob") },
    ]);
    expect(upstreams.size).toBe(300);
    expect(upstreams.get("uid-b299")).toMatchObject({
      state: "authenticated",
      account: "b299",
      detail: null,
      checkedAt: expect.any(Date),
    });
    expect(attempts.size).toBe(0);
    const [view] = await listMyBouncers(world.ctx, bob);
    expect(view).toMatchObject({ upstream: null, lastAttempt: null, phase: "provisioning" });
  });
});

describe("admin console", () => {
  it("lists every bouncer with owner and state; filters, sorts and paginates", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await createBouncer(world.ctx, bob, "bob");
    setReady("bob", "True");
    const all = await listAllBouncers(world.ctx, {
      sort: "name",
      direction: "asc",
      page: 1,
      pageSize: 25,
    });
    expect(all.total).toBe(2);
    expect(all.rows.map((r) => [r.name, r.owner?.username, r.phase])).toEqual([
      ["alice", "alice", "provisioning"],
      ["bob", "bob", "ready"],
    ]);
    const desc = await listAllBouncers(world.ctx, {
      sort: "name",
      direction: "desc",
      page: 1,
      pageSize: 1,
    });
    expect(desc).toMatchObject({ total: 2, rows: [{ name: "bob" }] });
    const page2 = await listAllBouncers(world.ctx, {
      sort: "name",
      direction: "desc",
      page: 2,
      pageSize: 1,
    });
    expect(page2.rows.map((r) => r.name)).toEqual(["alice"]);
    const ready = await listAllBouncers(world.ctx, {
      phase: "ready",
      sort: "name",
      direction: "asc",
      page: 1,
      pageSize: 25,
    });
    expect(ready.rows.map((r) => r.name)).toEqual(["bob"]);
    const search = await listAllBouncers(world.ctx, {
      search: "ALICE@EXAMPLE",
      sort: "name",
      direction: "asc",
      page: 1,
      pageSize: 25,
    });
    expect(search.rows.map((r) => r.name)).toEqual(["alice"]);
  });

  it("retry removes the annotation and is audited with who, when and why", async () => {
    await createBouncer(world.ctx, alice, "alice");
    world.kube.objects.patch("sojubouncers.irc.now", ns, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } },
    });
    const entry = await retryBouncerSetup(
      world.ctx,
      { id: bob.id, username: "bob" },
      "alice",
      "user reports SASL failures",
    );
    expect(entry).toMatchObject({
      actorUsername: "bob",
      action: "bouncer.retry-setup",
      target: "sojubouncer/irc-now/alice",
      reason: "user reports SASL failures",
      details: { wasConfigured: true },
    });
    const annotations =
      world.kube.objects.get("sojubouncers.irc.now", ns, "alice").metadata.annotations ?? {};
    expect(annotations[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    // Always a real change, so the worker's watch fires even if the annotation was already gone.
    expect(Date.parse(annotations["irc.now/retry-requested-at"] ?? "")).toBeGreaterThan(
      Date.now() - 60_000,
    );
    const log = await auditLog(world.ctx, { page: 1, pageSize: 10 });
    expect(log.total).toBe(1);
    const detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.audit).toHaveLength(1);
    await expectDomainError(
      retryBouncerSetup(world.ctx, { id: bob.id, username: "bob" }, "nope", "x"),
      "NOT_FOUND",
    );
  });
});

const listAll = (extra: Partial<Parameters<typeof listAllBouncers>[1]> = {}) =>
  listAllBouncers(world.ctx, { sort: "name", direction: "asc", page: 1, pageSize: 25, ...extra });

/** The worker's verdict on an ergo account that exists and is not the portal's. */
const notOwnedError =
  'ergo account "alice" already exists and the portal does not own it; it was not reset.';

async function parkNeedsAdmin(
  name: string,
  step: "ensure_ergo_account" | "read_secret" = "ensure_ergo_account",
) {
  setReady(name, "True");
  await world.db.insert(accounts.bouncerSetupAttempts).values([
    {
      namespace: ns,
      bouncer: name,
      bouncerUid: uidOf(name),
      attemptNo: 1,
      stepReached: step,
      outcome: "needs_admin",
      error: notOwnedError,
      finishedAt: new Date(),
    },
  ]);
}

const annotationsOf = (name: string) =>
  world.kube.objects.get("sojubouncers.irc.now", ns, name).metadata.annotations ?? {};

describe("history by the CR's uid", () => {
  it("never shows the attempts or upstream state of an earlier bouncer with the same name", async () => {
    await createBouncer(world.ctx, alice, "alice");
    setReady("alice", "True");
    const earlier = "0b1c2d3e-0000-4000-8000-00000000dead";
    await world.db.insert(accounts.bouncerSetupAttempts).values([
      {
        namespace: ns,
        bouncer: "alice",
        bouncerUid: earlier,
        attemptNo: 7,
        stepReached: "ensure_ergo_account",
        outcome: "failed",
        error: "the previous owner's error",
      },
      // Rows from before uids were recorded belong to no bouncer.
      {
        namespace: ns,
        bouncer: "alice",
        bouncerUid: null,
        attemptNo: 8,
        stepReached: "done",
        outcome: "succeeded",
      },
    ]);
    await world.db.insert(accounts.bouncerUpstreamStates).values({
      namespace: ns,
      bouncer: "alice",
      bouncerUid: earlier,
      state: "authenticated",
      account: "alice",
    });
    let [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "ready",
      lastAttempt: null,
      upstream: null,
      problem: null,
    });
    let detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.attempts).toEqual([]);
    expect(detail.bouncer.lastAttempt).toBeNull();
    const [row] = (await listAll()).rows;
    expect(row).toMatchObject({ lastAttempt: null, upstream: null });

    // This bouncer's own rows count, numbered on their own.
    await world.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: ns,
      bouncer: "alice",
      bouncerUid: uidOf("alice"),
      attemptNo: 1,
      stepReached: "apply_soju_network",
      outcome: "failed",
      error: "soju restarting",
    });
    await world.db
      .update(accounts.bouncerUpstreamStates)
      .set({ bouncerUid: uidOf("alice"), state: "disconnected" });
    expect((await listAll()).rows[0]).toMatchObject({
      uid: uidOf("alice"),
      lastAttempt: { attemptNo: 1, error: "soju restarting" },
      upstream: { state: "disconnected" },
    });
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      lastAttempt: { attemptNo: 1 },
      upstream: { state: "disconnected" },
    });
    detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.attempts.map((a) => [a.attemptNo, a.bouncerUid])).toEqual([[1, uidOf("alice")]]);
  });
});

describe("needs admin", () => {
  it("is a phase of its own: admins see the reason and can filter and count it; users see plain words", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await createBouncer(world.ctx, bob, "bob");
    setReady("bob", "True");
    await parkNeedsAdmin("alice");

    const [mine] = await listMyBouncers(world.ctx, alice);
    expect(mine!.phase).toBe("needs_admin");
    expect(mine!.problem).toMatchObject({
      step: "Creating your irc.now IRC account",
      text: expect.stringMatching(
        /^Waiting for irc.now staff: your IRC account name needs a check/,
      ),
      action: "wait",
      advice: expect.stringMatching(/You don't need to do anything/),
    });
    expect(JSON.stringify(mine)).not.toMatch(/email/i);
    expect(JSON.stringify(mine)).not.toContain("ergo account");

    const parked = await listAll({ phase: "needs_admin" });
    expect(parked.rows.map((r) => [r.name, r.lastAttempt?.error])).toEqual([
      ["alice", notOwnedError],
    ]);
    expect((await listAll({ outcome: "needs_admin" })).rows.map((r) => r.name)).toEqual(["alice"]);
    expect((await listAll({ phase: "ready" })).rows.map((r) => r.name)).toEqual(["bob"]);
    const stats = await adminStats(world.ctx, 3);
    expect(stats.byPhase).toMatchObject({ needs_admin: 1, ready: 1 });
    expect(stats.outcomesByDay.at(-1)).toMatchObject({ needs_admin: 1, failed: 0 });

    // Once configured (e.g. an admin fixed it by hand), an old verdict no longer parks it.
    world.kube.objects.patch("sojubouncers.irc.now", ns, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } },
    });
    expect((await listMyBouncers(world.ctx, alice))[0]!.phase).toBe("configured");
  });
});

describe("adopt account", () => {
  const admin = () => ({ id: bob.id, username: "bob" });

  it("is offered only for a bouncer parked on an ergo account the portal does not own", async () => {
    await createBouncer(world.ctx, alice, "alice");
    setReady("alice", "True");
    let detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.ergoAccount).toMatchObject({
      account: "alice",
      owner: { id: alice.id, username: "alice" },
      ownership: null,
      adopt: { offered: false },
    });
    await expectDomainError(
      adoptErgoAccount(world.ctx, admin(), "alice", "because"),
      "PRECONDITION_FAILED",
      /not waiting for an admin/,
    );

    await parkNeedsAdmin("alice");
    detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.ergoAccount.adopt).toEqual({ offered: true, why: null, kind: null });
  });

  it("makes the account the owner's and audits it in one transaction, then retries setup", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await parkNeedsAdmin("alice");
    // While the retry's patch is on its way, adoption and audit row are already committed:
    // a worker reacting to the patch must find the account owned.
    const seenAtPatch: unknown[] = [];
    const hang = world.kube.faults.hangRequests(undefined, {
      match: (r) => r.method === "PATCH",
    });
    const unsubscribe = world.kube.onRequest((r) => {
      if (r.method !== "PATCH") return;
      void (async () => {
        seenAtPatch.push(
          (await world.db.select().from(accounts.ergoAccounts)).length,
          (await world.db.select().from(accounts.adminAuditLog)).length,
        );
        hang.release();
      })();
    });
    let entry;
    try {
      entry = await adoptErgoAccount(
        world.ctx,
        admin(),
        "alice",
        "alice registered it on IRC first",
      );
    } finally {
      unsubscribe();
      hang.release();
    }
    expect(seenAtPatch).toEqual([1, 1]);
    expect(entry).toMatchObject({
      actorUserId: bob.id,
      actorUsername: "bob",
      action: "ergo_account.adopt",
      target: "sojubouncer/irc-now/alice",
      reason: "alice registered it on IRC first",
      details: { account: "alice", ownerUserId: alice.id, bouncerUid: uidOf("alice") },
    });
    expect(await world.db.select().from(accounts.ergoAccounts)).toEqual([
      {
        account: "alice",
        ownerUserId: alice.id,
        origin: "adopted",
        adoptedBy: "bob",
        createdAt: expect.any(Date),
      },
    ]);
    const annotations = annotationsOf("alice");
    expect(annotations[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    expect(Date.parse(annotations["irc.now/retry-requested-at"] ?? "")).toBeGreaterThan(
      Date.now() - 60_000,
    );
    const detail = await bouncerDetail(world.ctx, "alice");
    expect(detail.ergoAccount).toMatchObject({
      ownedByBouncerOwner: true,
      ownership: { ownerUsername: "alice", origin: "adopted", adoptedBy: "bob" },
      adopt: { offered: false, why: expect.stringMatching(/already owns .* use Retry setup/) },
    });
    expect(detail.audit).toMatchObject([{ action: "ergo_account.adopt", previousBouncer: false }]);
    // A second adoption (double submit) changes nothing.
    await expectDomainError(
      adoptErgoAccount(world.ctx, admin(), "alice", "again"),
      "PRECONDITION_FAILED",
    );
    expect((await auditLog(world.ctx, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it("refuses, as a CONFLICT, an account the portal owns for another user; nothing is written", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await parkNeedsAdmin("alice");
    await world.db
      .insert(accounts.ergoAccounts)
      .values({ account: "alice", ownerUserId: bob.id, origin: "registered" });
    const before = annotationsOf("alice");
    await expectDomainError(
      adoptErgoAccount(world.ctx, admin(), "alice", "because"),
      "CONFLICT",
      /"alice" already belongs to portal user bob; it cannot be adopted for another user/,
    );
    expect((await bouncerDetail(world.ctx, "alice")).ergoAccount.adopt).toMatchObject({
      offered: false,
      kind: "CONFLICT",
    });
    expect(await world.db.select().from(accounts.adminAuditLog)).toEqual([]);
    expect(await world.db.select().from(accounts.ergoAccounts)).toMatchObject([
      { ownerUserId: bob.id, origin: "registered" },
    ]);
    expect(annotationsOf("alice")).toEqual(before);
  });

  it("refuses when the wait is not about the account, or the name can never be set up", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await parkNeedsAdmin("alice", "read_secret");
    await expectDomainError(
      adoptErgoAccount(world.ctx, admin(), "alice", "because"),
      "PRECONDITION_FAILED",
      /another reason than its ergo account/,
    );

    // A user who signed in before the sign-in rule: ergo refuses "nickserv" whoever owns it.
    const ns2 = await recordLogin(world.db, { subject: "kc-ns", username: "nickserv" });
    await world.ctx.bouncers.create({
      name: "services",
      username: "nickserv",
      plan: "free",
      ownerId: ns2.id,
    });
    await parkNeedsAdmin("services");
    await expectDomainError(
      adoptErgoAccount(world.ctx, admin(), "services", "because"),
      "PRECONDITION_FAILED",
      /can never be set up by the portal .*ergo reserves for its services/,
    );
    expect(await world.db.select().from(accounts.ergoAccounts)).toEqual([]);
  });

  it("keeps the adoption when the retry cannot be started, and says so", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await parkNeedsAdmin("alice");
    const unsubscribe = world.kube.onRequest((r) => {
      if (r.method === "PATCH") world.kube.faults.failNextRequests(1, { code: 503 });
    });
    try {
      await expectDomainError(
        adoptErgoAccount(world.ctx, admin(), "alice", "because"),
        "UNAVAILABLE",
        /"alice" is adopted, but setup could not be restarted .*Use Retry setup/,
      );
    } finally {
      unsubscribe();
    }
    expect(await world.db.select().from(accounts.ergoAccounts)).toHaveLength(1);
    expect((await auditLog(world.ctx, { page: 1, pageSize: 10 })).total).toBe(1);
  });

  it("labels audit entries of an earlier bouncer with the same name", async () => {
    await createBouncer(world.ctx, alice, "alice");
    await world.db.insert(accounts.adminAuditLog).values({
      actorUsername: "bob",
      action: "bouncer.retry-setup",
      target: "sojubouncer/irc-now/alice",
      details: { bouncerUid: "an-earlier-uid" },
    });
    await retryBouncerSetup(world.ctx, admin(), "alice", "now");
    const { audit } = await bouncerDetail(world.ctx, "alice");
    expect(audit.map((a) => [a.reason, a.previousBouncer])).toEqual([
      ["now", false],
      [null, true],
    ]);
  });
});

describe("usernames ergo can never have", () => {
  it("get no bouncer, with a message saying what to do", async () => {
    const guest = await recordLogin(world.db, { subject: "kc-guest", username: "guest-bob" });
    await expectDomainError(
      createBouncer(world.ctx, { id: guest.id, username: guest.username, plan: "free" }, "bob-2"),
      "PRECONDITION_FAILED",
      /"guest-bob" is reserved on the irc.now IRC network/,
    );
    const oper = await recordLogin(world.db, { subject: "kc-op", username: "irc-now-admin" });
    await expectDomainError(
      createBouncer(world.ctx, { id: oper.id, username: oper.username, plan: "free" }, "op"),
      "PRECONDITION_FAILED",
    );
    expect(world.kube.objects.list("sojubouncers.irc.now", ns).items).toEqual([]);
  });
});
