import { encode } from "next-auth/jwt";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { accounts } from "@irc-now/db";
import {
  AppPasswordHasher,
  appPasswordKey,
  createAppPassword,
} from "~/server/domain/app-passwords";
import type { AccountExport } from "~/server/domain/account-export";
import { recordLogin } from "~/server/domain/users";
import { useWebEnv } from "./support/web-env";
import { startWorld, type World } from "./support/world";

// GET /api/account/export: the signed-in user's data as a download, and nothing secret in it.
const jar = new Map<string, string>();
vi.mock("next/headers", () => ({
  cookies: async () => ({ getAll: () => [...jar].map(([name, value]) => ({ name, value })) }),
}));

const SECRET = "test-secret-test-secret-test-secret-0123";
const COOKIE = "next-auth.session-token";
const SEALED = "SEALED-NETWORK-PASSWORD-CIPHERTEXT";
const RAW_ERROR = "ergo said: oper irc-now-admin password hunter2 refused";
const STRIPE_CUSTOMER = "cus_export_test_1";

let world: World;
let GET: (request: Request) => Promise<Response>;
let userId: string;
let token: string;
let lookup: string;
let secretHash: string;

const request = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1:3000/api/account/export", { headers });

/** Every key path of a JSON value, array positions as []. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${prefix}[]`));
  if (value && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => [
      `${prefix}${prefix ? "." : ""}${k}`,
      ...keyPaths(v, `${prefix}${prefix ? "." : ""}${k}`),
    ]);
  return [];
}

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  useWebEnv(world);
  const user = await recordLogin(world.db, {
    subject: "kc-export-sub-123",
    username: "exporter",
    email: "exporter@example.org",
    displayName: "Ex Porter",
  });
  userId = user.id;
  const other = await recordLogin(world.db, { subject: "kc-export-other", username: "someone" });
  await world.db
    .update(accounts.users)
    .set({ stripeCustomerId: STRIPE_CUSTOMER, sessionsValidAfter: new Date(0) })
    .where(eq(accounts.users.id, userId));
  await world.db.insert(accounts.bouncers).values([
    {
      namespace: "irc-now",
      name: "exporter",
      uid: "uid-ex",
      ownerId: userId,
      sojuUsername: "exporter",
    },
    {
      namespace: "irc-now",
      name: "someone",
      uid: "uid-so",
      ownerId: other.id,
      sojuUsername: "someone",
    },
  ]);
  await world.db.insert(accounts.bouncerSetupAttempts).values([
    {
      namespace: "irc-now",
      bouncer: "exporter",
      bouncerUid: "uid-ex",
      attemptNo: 1,
      stepReached: "ensure_ergo_account",
      outcome: "failed",
      error: RAW_ERROR,
      runner: "irc-now-worker-0",
    },
    // An earlier namesake's attempt (another uid) is not this user's history.
    {
      namespace: "irc-now",
      bouncer: "exporter",
      bouncerUid: "uid-old",
      attemptNo: 1,
      stepReached: "done",
      outcome: "succeeded",
    },
    {
      namespace: "irc-now",
      bouncer: "someone",
      bouncerUid: "uid-so",
      attemptNo: 1,
      stepReached: "done",
      outcome: "succeeded",
    },
  ]);
  const hasher = new AppPasswordHasher(appPasswordKey({ AUTH_SECRET: SECRET }));
  const created = await createAppPassword(
    world.ctx,
    hasher,
    { id: userId, username: "exporter", plan: "free" },
    { label: "laptop weechat", expiresInDays: 30, bouncer: null },
  );
  token = created.token;
  const [row] = await world.db
    .select()
    .from(accounts.appPasswords)
    .where(eq(accounts.appPasswords.userId, userId));
  lookup = row!.lookup;
  secretHash = row!.secretHash;
  const [job] = await world.db
    .insert(accounts.importJobs)
    .values({ userId, state: "running", bouncer: "exporter" })
    .returning();
  await world.db.insert(accounts.importItems).values({
    jobId: job!.id,
    position: 0,
    kind: "network",
    network: "libera",
    spec: { addr: "ircs://irc.libera.chat:6697", nick: "exporter" },
    sealed: SEALED,
    state: "pending",
  });
  await world.db.insert(accounts.adminAuditLog).values([
    {
      actorUserId: other.id,
      actorUsername: "someone",
      action: "bouncer.retry-setup",
      target: "sojubouncer/irc-now/exporter",
      reason: "stuck",
      details: { raw: RAW_ERROR },
    },
    {
      actorUserId: other.id,
      actorUsername: "someone",
      action: "bouncer.retry-setup",
      target: "sojubouncer/irc-now/someone",
    },
  ]);
  ({ GET } = await import("../app/api/account/export/route"));
});
afterEach(() => jar.clear());
afterAll(async () => {
  await world?.stop();
});

async function signIn() {
  jar.set(
    COOKIE,
    await encode({
      token: {
        sub: "kc-export-sub-123",
        userId,
        username: "exporter",
        isAdmin: false,
        rolesCheckedAt: Math.floor(Date.now() / 1000),
        accessExpiresAt: Math.floor(Date.now() / 1000) + 300,
        signedInAt: Date.now(),
      },
      secret: SECRET,
    }),
  );
}

describe("GET /api/account/export", () => {
  it("downloads the user's data as irc-now-<username>.json, never cached", async () => {
    await signIn();
    const res = await GET(request({ "sec-fetch-site": "same-origin" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      "attachment; filename=irc-now-exporter.json",
    );
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    // Dates arrive as strings; the shape is the domain's.
    const data = (await res.json()) as AccountExport;
    expect(data.account).toMatchObject({
      username: "exporter",
      email: "exporter@example.org",
      displayName: "Ex Porter",
      plan: "free",
      contentExpires: true,
      loginCount: 1,
    });
    expect(data.bouncers).toEqual([
      expect.objectContaining({
        name: "exporter",
        suspendedAt: null,
        setupAttempts: [
          expect.objectContaining({
            attempt: 1,
            outcome: "failed",
            stepReached: "ensure_ergo_account",
          }),
        ],
      }),
    ]);
    expect(data.appPasswords).toEqual([
      expect.objectContaining({ label: "laptop weechat", revokedAt: null, lastUsedAt: null }),
    ]);
    expect(data.imports[0]!.items[0]).toMatchObject({
      kind: "network",
      network: "libera",
      state: "pending",
    });
    expect(data.keycloakSync).toEqual([
      expect.objectContaining({ reason: "login", deliveredAt: null }),
    ]);
    expect(data.auditLog).toEqual([
      expect.objectContaining({
        action: "bouncer.retry-setup",
        target: "sojubouncer/irc-now/exporter",
        byYou: false,
      }),
    ]);
  });

  it("holds exactly the documented fields: no hash, lookup id, sealed value, raw error, subject or Stripe id", async () => {
    await signIn();
    const body = await (await GET(request())).text();
    expect([...new Set(keyPaths(JSON.parse(body)))].sort()).toEqual(
      [
        "exportedAt",
        "account",
        "account.username",
        "account.email",
        "account.displayName",
        "account.plan",
        "account.subscriptionStatus",
        "account.contentAutoExpire",
        "account.contentExpires",
        "account.createdAt",
        "account.lastLoginAt",
        "account.loginCount",
        "bouncers",
        "bouncers[].name",
        "bouncers[].createdAt",
        "bouncers[].suspendedAt",
        "bouncers[].suspendedReason",
        "bouncers[].setupAttempts",
        "bouncers[].setupAttempts[].attempt",
        "bouncers[].setupAttempts[].stepReached",
        "bouncers[].setupAttempts[].outcome",
        "bouncers[].setupAttempts[].startedAt",
        "bouncers[].setupAttempts[].finishedAt",
        "bouncers[].upstreamLogin",
        "ergoAccounts",
        "appPasswords",
        "appPasswords[].label",
        "appPasswords[].bouncer",
        "appPasswords[].createdAt",
        "appPasswords[].lastUsedAt",
        "appPasswords[].expiresAt",
        "appPasswords[].revokedAt",
        "imports",
        "imports[].state",
        "imports[].bouncer",
        "imports[].error",
        "imports[].createdAt",
        "imports[].startedAt",
        "imports[].finishedAt",
        "imports[].items",
        "imports[].items[].kind",
        "imports[].items[].network",
        "imports[].items[].channel",
        "imports[].items[].selected",
        "imports[].items[].spec",
        "imports[].items[].spec.addr",
        "imports[].items[].spec.nick",
        "imports[].items[].state",
        "imports[].items[].detail",
        "keycloakSync",
        "keycloakSync[].reason",
        "keycloakSync[].createdAt",
        "keycloakSync[].deliveredAt",
        "keycloakSync[].attempts",
        "auditLog",
        "auditLog[].action",
        "auditLog[].target",
        "auditLog[].reason",
        "auditLog[].byYou",
        "auditLog[].createdAt",
      ].sort(),
    );
    for (const secret of [
      token,
      token.split("_")[2]!,
      lookup,
      secretHash,
      SEALED,
      RAW_ERROR,
      "hunter2",
      "kc-export-sub-123",
      STRIPE_CUSTOMER,
      userId,
      "irc-now-worker-0",
      "someone",
    ])
      expect(body).not.toContain(secret);
  });

  it("answers 401 without a session, and 403 to a request another site made", async () => {
    const anonymous = await GET(request());
    expect(anonymous.status).toBe(401);
    await signIn();
    for (const site of ["cross-site", "same-site"]) {
      const res = await GET(request({ "sec-fetch-site": site }));
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain("exporter");
    }
    // Typed into the address bar or followed from our own page: allowed.
    expect((await GET(request({ "sec-fetch-site": "none" }))).status).toBe(200);
  });
});
