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
import { auditLog, bouncerDetail, listAllBouncers, retryBouncerSetup } from "~/server/domain/admin";
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
  await world.db.delete(accounts.users);
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
    // Still on its way: progress, not a problem.
    expect(view).toMatchObject({
      phase: "provisioning",
      problem: null,
      detail: "soju pod is pulling its image",
    });
    setReady("alice", "False", "database quota exceeded", "ProvisioningFailed");
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "provisioning",
      problem: "Your bouncer could not start: database quota exceeded",
    });

    setReady("alice", "True");
    await world.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: ns,
      bouncer: "alice",
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
    expect(view!.problem).toMatch(/failed while creating your irc.now account/);

    world.kube.objects.patch("sojubouncers.irc.now", ns, "alice", {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } },
    });
    await world.db
      .insert(accounts.bouncerUpstreamStates)
      .values({ namespace: ns, bouncer: "alice", state: "unauthenticated" });
    [view] = await listMyBouncers(world.ctx, alice);
    expect(view).toMatchObject({
      phase: "configured",
      configured: true,
      problem: "Your bouncer is connected to irc.now but is not logged in to your account.",
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
    await world.db.insert(accounts.bouncerSetupAttempts).values([
      {
        namespace: ns,
        bouncer: "alice",
        attemptNo: 1,
        stepReached: "ensure_ergo_account",
        outcome: "failed",
        error: "ergo unavailable",
      },
      {
        namespace: ns,
        bouncer: "alice",
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
        attemptNo: 2,
        stepReached: "choose_password",
        outcome: "failed",
        error: "older",
      },
      {
        namespace: "elsewhere",
        bouncer: "alice",
        attemptNo: 9,
        stepReached: "done",
        outcome: "succeeded",
      },
    ]);
    await world.db.insert(accounts.bouncerUpstreamStates).values({
      namespace: "elsewhere",
      bouncer: "alice",
      state: "authenticated",
      account: "alice",
    });
    const [view] = await listMyBouncers(world.ctx, alice);
    expect(view!.lastAttempt).toEqual({
      attemptNo: 3,
      outcome: "failed",
      step: "apply_soju_network",
      error: "soju restarting",
      startedAt,
      finishedAt: startedAt,
    });
    expect(view!.upstream).toBeNull();
    expect(view!.problem).toMatch(/failed while adding the irc.now network/);
  });

  it("reads records for many bouncers at once, and none for a bouncer without any", async () => {
    await createBouncer(world.ctx, bob, "bob");
    const names = Array.from({ length: 300 }, (_, i) => `b${i}`);
    await world.db.insert(accounts.bouncerUpstreamStates).values(
      names.map((bouncer) => ({
        namespace: ns,
        bouncer,
        state: "authenticated" as const,
        account: bouncer,
      })),
    );
    const { attempts, upstreams } = await loadSetupRecords(world.db, ns, [...names, "bob"]);
    expect(upstreams.size).toBe(300);
    expect(upstreams.get("b299")).toMatchObject({
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
