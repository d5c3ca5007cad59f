import { TRPCError } from "@trpc/server";
import type { Session } from "next-auth";
import { encode } from "next-auth/jwt";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { endSessions } from "~/server/auth/session-cutoff";
import { recordLogin } from "~/server/domain/users";
import type * as TrpcRoute from "../app/api/trpc/[trpc]/route";
import { startWorld, type World } from "./support/world";
import { TEST_STRIPE_ENV } from "./support/web-env";

// The tRPC route as Next runs it (its exported handler, over Request/Response), and the
// procedures' session check. Only Next's cookie store is replaced (there is no request scope).
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SITE = "http://127.0.0.1:3000";
const SECRET = "trpc-auth-test-secret-trpc-auth-test-secret";
let world: World;
let route: typeof TrpcRoute;
let aliceId: string;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    KUBECONFIG: world.kubeconfigPath,
    K8S_NAMESPACE: "irc-now",
    AUTH_SECRET: SECRET,
    AUTH_URL: SITE,
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "admin-client-secret",
    ...TEST_STRIPE_ENV,
  });
  aliceId = (await recordLogin(world.db, { subject: "kc-alice-trpc-auth", username: "alice" })).id;
  route = await import("../app/api/trpc/[trpc]/route");
});
afterAll(async () => {
  await world?.stop();
});
afterEach(() => jar.clear());

/** A signed-in browser's session cookie for alice. */
async function signIn(): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  jar.set(
    "next-auth.session-token",
    await encode({
      secret: SECRET,
      token: {
        userId: aliceId,
        username: "alice",
        isAdmin: false,
        refreshToken: "r",
        rolesCheckedAt: now,
        accessExpiresAt: now + 300,
        signedInAt: Date.now() - 1000,
      },
    }),
  );
}

const createBody = JSON.stringify({ 0: { json: { name: "alicebnc" } } });
const mutation = (headers: Record<string, string>, body: BodyInit = createBody) =>
  route.POST(
    new Request(`${SITE}/api/trpc/bouncer.create?batch=1`, { method: "POST", headers, body }),
  );

describe("the tRPC route refuses cross-site and non-JSON mutations", () => {
  it("refuses a cross-site fetch POST (Origin of another site): 403", async () => {
    await signIn();
    const res = await mutation({
      origin: "https://evil.example",
      "content-type": "application/json",
    });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).toContain(
      "Requests from other sites are not allowed.",
    );
  });

  it("refuses a POST a browser marks cross-site or same-site when it sends no Origin: 403", async () => {
    for (const site of ["cross-site", "same-site"])
      expect(
        (await mutation({ "sec-fetch-site": site, "content-type": "application/json" })).status,
      ).toBe(403);
  });

  it("refuses multipart/form-data, text/plain and urlencoded bodies, even from our origin: 415", async () => {
    const form = new FormData();
    form.set("0", JSON.stringify({ json: { name: "alicebnc" } }));
    const multipart = await route.POST(
      new Request(`${SITE}/api/trpc/bouncer.create?batch=1`, {
        method: "POST",
        headers: { origin: SITE },
        body: form,
      }),
    );
    expect(multipart.status).toBe(415);
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
      expect((await mutation({ origin: SITE, "content-type": type })).status).toBe(415);
    expect((await mutation({ origin: SITE })).status).toBe(415);
  });

  it("takes the origin the request was addressed to as ours too (a second server, e.g. next dev)", async () => {
    const res = await route.POST(
      new Request(`${SITE}/api/trpc/bouncer.create?batch=1`, {
        method: "POST",
        headers: {
          host: "127.0.0.1:4123",
          origin: "http://127.0.0.1:4123",
          "content-type": "application/json",
        },
        body: createBody,
      }),
    );
    expect(res.status).toBe(401);
    const other = await route.POST(
      new Request(`${SITE}/api/trpc/bouncer.create?batch=1`, {
        method: "POST",
        headers: {
          host: "127.0.0.1:4123",
          origin: "http://127.0.0.1:4124",
          "content-type": "application/json",
        },
        body: createBody,
      }),
    );
    expect(other.status).toBe(403);
  });

  it("lets the app's own JSON POST from our origin through to the procedure", async () => {
    // Signed out: the procedure itself answers (401), so the request got past the guard.
    const signedOut = await mutation({
      origin: SITE,
      "sec-fetch-site": "same-origin",
      "content-type": "application/json",
    });
    expect(signedOut.status).toBe(401);
    // A query by GET is never refused for its headers.
    await signIn();
    const query = await route.GET(
      new Request(`${SITE}/api/trpc/bouncer.mine?batch=1&input=${encodeURIComponent("{}")}`, {
        headers: { "sec-fetch-site": "cross-site" },
      }),
    );
    expect(query.status).toBe(200);
  });
});

describe("protectedProcedure refuses a session signed in before the user's last sign-out", () => {
  it("answers UNAUTHORIZED once sessions_valid_after is past the session's sign-in", async () => {
    const { id } = await recordLogin(world.db, { subject: "kc-carol-trpc", username: "carol" });
    const session: Session = {
      signedInAt: Date.now() - 1000,
      user: { id, username: "carol", isAdmin: false },
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    };
    const caller = createCaller(createTRPCContext(session));
    expect(await caller.bouncer.mine()).toBeDefined();
    await endSessions(world.db, id);
    const error = await caller.bouncer.mine().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe("UNAUTHORIZED");
  });
});
