import type { Session } from "next-auth";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { recordLogin } from "~/server/domain/users";
import { startWorld, type World } from "./support/world";

let world: World;
let aliceId: string;

const session = (id: string, username: string, isAdmin = false): Session => ({
  user: { id, username, isAdmin },
  expires: new Date(Date.now() + 3_600_000).toISOString(),
});

async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    KUBECONFIG: world.kubeconfigPath,
    K8S_NAMESPACE: "irc-now",
    AUTH_SECRET: "test-secret-test-secret-test-secret-0123",
    AUTH_URL: "http://127.0.0.1:3000",
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
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
      createTRPCContext(session("00000000-0000-4000-8000-000000000000", "ghost")),
    );
    expect((await trpcError(caller.bouncer.mine())).code).toBe("UNAUTHORIZED");
  });

  it("refuses non-admins on every admin procedure with FORBIDDEN", async () => {
    const caller = createCaller(createTRPCContext(session(aliceId, "alice")));
    const calls = [
      () => caller.admin.bouncers({}),
      () => caller.admin.audit({}),
      () => caller.admin.stats({}),
      () => caller.admin.retry({ name: "alice", reason: "because" }),
    ];
    for (const call of calls) expect((await trpcError(call())).code).toBe("FORBIDDEN");
  });

  it("serves the signed-in user's bouncers and maps domain errors to typed codes", async () => {
    const caller = createCaller(createTRPCContext(session(aliceId, "alice")));
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
    const caller = createCaller(createTRPCContext(session(aliceId, "alice")));
    const error = await trpcError(caller.bouncer.create({ name: "Not A Label" }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/lowercase letters, digits and hyphens/);
  });

  it("lets admins list everything and retry", async () => {
    const caller = createCaller(createTRPCContext(session(aliceId, "alice", true)));
    const list = await caller.admin.bouncers({ sort: "name" });
    expect(list.rows.map((r) => r.name)).toContain("alice");
    const entry = await caller.admin.retry({ name: "alice", reason: "testing retry" });
    expect(entry).toMatchObject({ actorUsername: "alice", reason: "testing retry" });
    expect((await caller.admin.audit({})).total).toBeGreaterThanOrEqual(1);
  });
});
