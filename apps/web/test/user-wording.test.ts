import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { recordLogin } from "~/server/domain/users";
import { sessionFor, useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// Users get plain words about their bouncers; the raw texts the worker, soju, ergo, the operator
// and Kubernetes write stay with admins. Each text below is what those write (the worker's
// errorText: "<class>: <message>", see apps/worker/src/bouncers/{setup,verifier,errors}.ts and
// the ergo/soju/k8s packages' errors), with the internals a real cluster fills in.

const ns = "irc-now";
const operName = "irc-now-oper";
const ergoIp = "10.0.4.12";
const ergoHost = "ergo.irc-now.svc.cluster.local";
const apiServerIp = "10.96.0.1";
const dbIp = "10.0.7.3";
const nodeIp = "10.0.2.15";
const workerSa = "system:serviceaccount:irc-now:irc-now-worker";
const webSa = "system:serviceaccount:irc-now:irc-now-web";
const dbUser = "soju_alice_app";
const pod = "soju-alice-7c9f8d-x2x4q";
const otherUserId = "3f1c2b7a-0000-4000-8000-00000000beef";

/** Substrings no user-facing answer may contain. */
const internals = [
  operName,
  "OperAuthFailed",
  "ERGO_OPER",
  "ERGO_API_TOKEN",
  ergoIp,
  ergoHost,
  apiServerIp,
  dbIp,
  nodeIp,
  "worker-3",
  "sojuctl",
  "pods/exec",
  "serviceaccount",
  "irc-now-worker",
  "irc-now-web",
  dbUser,
  pod,
  "admin.sock",
  "ECONNREFUSED",
  "    at ",
  "node:net",
  "alice-db",
  otherUserId,
  "mallory",
  "SojuUnavailable",
  "SojuCommandFailed",
  "ErgoUnavailable",
  "ErgoTimeout",
  "NeedsAdmin",
  "SetupError",
  "TenantSecretError",
  "Kubernetes API",
  "forbidden",
  "interrupted",
  "redacted",
];

type Step = (typeof accounts.setupStep.enumValues)[number];

/** A setup attempt as the worker records it. */
interface AttemptCase {
  step: Step;
  outcome: "failed" | "needs_admin";
  error: string;
}

const attemptCases: AttemptCase[] = [
  {
    step: "ensure_ergo_account",
    outcome: "needs_admin",
    error: `OperAuthFailed: ergo refused the oper credentials of "${operName}" (464 Password incorrect); check ERGO_OPER_NAME and ERGO_OPER_PASSWORD`,
  },
  {
    step: "ensure_ergo_account",
    outcome: "needs_admin",
    error: `OperAuthFailed: ergo's HTTP API refused the bearer token (HTTP 401 on http://${ergoIp}:8089/v1/ns/saregister); check ERGO_API_TOKEN`,
  },
  {
    step: "ensure_ergo_account",
    outcome: "needs_admin",
    error: `NeedsAdmin: ergo account "alice" is owned by another portal user (${otherUserId}); it is not reset`,
  },
  {
    step: "ensure_ergo_account",
    outcome: "failed",
    error: `ErgoUnavailable: connect ECONNREFUSED ${ergoIp}:6667`,
  },
  {
    step: "verify_ergo_credentials",
    outcome: "failed",
    error: `ErgoTimeout: ergo at ${ergoHost}:6697 did not answer within 10000 ms`,
  },
  {
    step: "apply_soju_network",
    outcome: "failed",
    error: `SojuUnavailable: exec into pod ${ns}/${pod} container soju failed: pods "${pod}" is forbidden: User "${workerSa}" cannot create resource "pods/exec" in API group "" in the namespace "${ns}"`,
  },
  {
    step: "apply_soju_network",
    outcome: "failed",
    error: `SojuUnavailable: sojuctl exited with code 2: dial unix /run/soju/admin.sock: connect: no such file or directory`,
  },
  {
    step: "apply_soju_network",
    outcome: "needs_admin",
    error: `SojuCommandFailed: soju refused the command: unknown network "irc.now" (sojuctl in pod ${pod})`,
  },
  {
    step: "wait_for_soju_user",
    outcome: "failed",
    error: `SojuUnavailable: tenant DB: 28P01 password authentication failed for user "${dbUser}"`,
  },
  {
    step: "read_secret",
    outcome: "needs_admin",
    error: `TenantSecretError: secret alice-db: no "uri" key and missing "host", "password"`,
  },
  {
    step: "choose_password",
    outcome: "failed",
    error: `Error: connect ECONNREFUSED ${apiServerIp}:443\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16)`,
  },
  {
    step: "annotate",
    outcome: "failed",
    error: `SetupError: Kubernetes API 403: sojubouncers.irc.now "alice" is forbidden: User "${workerSa}" cannot patch resource "sojubouncers"`,
  },
  {
    step: "read_secret",
    outcome: "failed",
    error: "interrupted: the worker running this attempt stopped before it ended",
  },
];

/** The verifier's latest verdict (bouncer_upstream_states) on a configured bouncer. */
const upstreamCases = [
  {
    state: "unknown" as const,
    account: null,
    detail: `soju did not answer: SojuUnavailable: no running soju pod for bouncer alice (namespace ${ns}, selector irc.now/bouncer=alice)`,
  },
  {
    state: "unauthenticated" as const,
    account: "mallory",
    detail: `soju is logged in to irc.now as "mallory", not as "alice"`,
  },
  {
    state: "disconnected" as const,
    account: null,
    detail: "soju is not connected to irc.now",
  },
  {
    state: "authenticated" as const,
    account: "alice",
    detail: `not confirmed by ergo: ErgoUnavailable: connect ECONNREFUSED ${ergoIp}:6667`,
  },
  {
    state: "unknown" as const,
    account: "mallory",
    detail: `ergo did not answer: ErgoTimeout: ergo at ${ergoHost}:6697 did not answer within 10000 ms`,
  },
];

/** The operator's Ready condition while (or instead of) starting a bouncer. */
const readyCases = [
  {
    reason: "ProvisioningFailed",
    message: `failed to create database: role "${dbUser}" already exists (host ${dbIp}:5432)`,
  },
  {
    reason: "Provisioning",
    message: `waiting for Cluster ${ns}/alice-db: pod alice-db-1 on node worker-3 (${nodeIp})`,
  },
];

let world: World;
let aliceId: string;
let adminId: string;
/** Every scenario's bouncer and the raw texts admins must still see on it. */
const scenarios: { name: string; raw: string[] }[] = [];

const uidOf = (name: string) =>
  world.kube.objects.get("sojubouncers.irc.now", ns, name).metadata.uid!;

function setReady(name: string, status: "True" | "False", reason: string, message: string) {
  world.kube.objects.patch(
    "sojubouncers.irc.now",
    ns,
    name,
    { status: { conditions: [{ type: "Ready", status, reason, message }] } },
    { subresource: "status" },
  );
}

async function bouncer(name: string) {
  await world.ctx.bouncers.create({ name, username: "alice", plan: "free", ownerId: aliceId });
}

function expectNoInternals(answer: unknown) {
  const text = JSON.stringify(answer);
  for (const internal of internals)
    expect(text, `user answer shows ${internal}`).not.toContain(internal);
}

async function failure(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
  aliceId = (await recordLogin(world.db, { subject: "kc-alice", username: "alice" })).id;
  adminId = (await recordLogin(world.db, { subject: "kc-admin", username: "admin" })).id;

  for (const [i, c] of attemptCases.entries()) {
    const name = `attempt-${i}`;
    await bouncer(name);
    setReady(name, "True", "Running", "soju is running");
    await world.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: ns,
      bouncer: name,
      bouncerUid: uidOf(name),
      attemptNo: 1,
      stepReached: c.step,
      outcome: c.outcome,
      error: c.error,
      finishedAt: new Date(),
    });
    scenarios.push({ name, raw: [c.error] });
  }
  for (const [i, c] of upstreamCases.entries()) {
    const name = `upstream-${i}`;
    await bouncer(name);
    setReady(name, "True", "Running", "soju is running");
    world.kube.objects.patch("sojubouncers.irc.now", ns, name, {
      metadata: { annotations: { [ANNOTATION_UPSTREAM_CONFIGURED]: "true" } },
    });
    await world.db.insert(accounts.bouncerUpstreamStates).values({
      namespace: ns,
      bouncer: name,
      bouncerUid: uidOf(name),
      ...c,
    });
    scenarios.push({ name, raw: [c.detail] });
  }
  for (const [i, c] of readyCases.entries()) {
    const name = `ready-${i}`;
    await bouncer(name);
    setReady(name, "False", c.reason, c.message);
    scenarios.push({ name, raw: i === 0 ? [c.message] : [] });
  }
});
afterAll(async () => {
  await world?.stop();
});

describe("what users read about their bouncers", () => {
  it("contains none of the raw texts, in the list and in each bouncer's own answer", async () => {
    const user = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    const mine = await user.bouncer.mine();
    expect(mine.bouncers).toHaveLength(scenarios.length);
    expectNoInternals(mine);
    for (const { name } of scenarios) expectNoInternals(await user.bouncer.byName({ name }));
  });

  it("says which step, in plain words, and what to do", async () => {
    const user = createCaller(createTRPCContext(sessionFor(aliceId, "alice")));
    const byName = new Map((await user.bouncer.mine()).bouncers.map((b) => [b.name, b]));
    for (const [i, c] of attemptCases.entries()) {
      const view = byName.get(`attempt-${i}`)!;
      expect(view.phase).toBe(c.outcome === "needs_admin" ? "needs_admin" : "ready");
      expect(view.problem).toMatchObject({
        step: expect.stringMatching(/^[A-Z][a-z]/),
        text: expect.any(String),
        action: "wait",
        advice: expect.stringMatching(/contact irc.now support/),
      });
    }
    // The oper's credentials are our configuration, not the user's account name.
    expect(byName.get("attempt-0")!.problem!.text).toMatch(/a problem on our side/);
    expect(byName.get("attempt-2")!.problem!.text).toMatch(/your IRC account name needs a check/);
    expect(byName.get("attempt-5")!.problem).toMatchObject({
      step: "Adding the irc.now network to your bouncer",
      text: "Setting up the irc.now network stopped while adding the irc.now network to your bouncer.",
      advice: expect.stringMatching(/We retry automatically/),
    });
    expect(byName.get("upstream-1")).toMatchObject({
      phase: "configured",
      upstream: { state: "unauthenticated", account: null },
      problem: { step: "Logging in to irc.now", action: "contact_support" },
    });
    expect(byName.get("upstream-2")!.problem).toMatchObject({ action: "wait" });
    expect(byName.get("upstream-3")).toMatchObject({
      phase: "authenticated",
      upstream: { state: "authenticated", account: "alice" },
      problem: null,
    });
    expect(byName.get("ready-0")!.problem).toMatchObject({
      step: "Starting your bouncer",
      text: "Your bouncer could not start.",
    });
    expect(byName.get("ready-1")).toMatchObject({ detail: "Starting your bouncer", problem: null });
  });

  it("admins still get every raw text", async () => {
    const admin = createCaller(createTRPCContext(sessionFor(adminId, "admin", true)));
    const list = JSON.stringify(await admin.admin.bouncers({ pageSize: 200 }));
    for (const { name, raw } of scenarios) {
      const detail = JSON.stringify(await admin.admin.bouncer({ name }));
      for (const text of raw) {
        expect(detail).toContain(JSON.stringify(text).slice(1, -1));
        expect(list).toContain(JSON.stringify(text).slice(1, -1));
      }
    }
  });
});

describe("create and delete failures on our side", () => {
  it("tell the user what to do, never Kubernetes' answer", async () => {
    const bob = (await recordLogin(world.db, { subject: "kc-bob", username: "bob" })).id;
    const user = createCaller(createTRPCContext(sessionFor(bob, "bob")));
    const refusal = `sojubouncers.irc.now is forbidden: User "${webSa}" cannot create resource "sojubouncers" in API group "irc.now" at https://${apiServerIp}:443`;
    const failNext = (method: string) =>
      world.kube.onRequest((r) => {
        if (r.method === method)
          world.kube.faults.failNextRequests(1, { code: 403, message: refusal });
      });

    let unsubscribe = failNext("POST");
    const created = await failure(user.bouncer.create({ name: "bob" })).finally(unsubscribe);
    expect(created.code).toBe("SERVICE_UNAVAILABLE");
    expect(created.message).toMatch(/^We could not create your bouncer right now\b.*try again/);
    expectNoInternals(created.message);

    await user.bouncer.create({ name: "bob" });
    unsubscribe = failNext("DELETE");
    const deleted = await failure(user.bouncer.delete({ name: "bob", confirmName: "bob" })).finally(
      unsubscribe,
    );
    expect(deleted.code).toBe("SERVICE_UNAVAILABLE");
    expect(deleted.message).toMatch(/^We could not delete your bouncer right now\b/);
    expectNoInternals(deleted.message);
    expect((await user.bouncer.mine()).bouncers.map((b) => b.name)).toEqual(["bob"]);
  });
});
