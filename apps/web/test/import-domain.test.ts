import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import {
  defaultIrccloudUsers,
  startIrccloudStandin,
  type IrccloudStandin,
} from "@irc-now/standins/irccloud";
import type { Actor } from "~/server/domain/context";
import { DomainError } from "~/server/domain/errors";
import {
  importStatus,
  previewImport,
  startImport,
  type ImportContext,
} from "~/server/domain/import";
import { startWorld, type World } from "./support/world";

// The web side of the import over a real accounts DB, the Kubernetes API stand-in and the
// IRCCloud stand-in: every IRCCloud failure is a clear error that leaves nothing behind, and
// what is kept holds neither the IRCCloud credentials nor the session.
const KEY = "import-secret-key-for-web-tests-0123456789";
const [seed] = defaultIrccloudUsers({ host: "127.0.0.1", port: 1 });
const creds = { email: seed!.email, password: seed!.password };

let world: World;
let irccloud: IrccloudStandin;
let ctx: ImportContext;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  irccloud = await startIrccloudStandin({
    maxFailures: 100,
    users: [seed!, { ...seed!, email: "stall@example.test", stream: "stall" }],
  });
  ctx = {
    ...world.ctx,
    import: {
      irccloudUrl: irccloud.url,
      irccloudTimeoutMs: 1_500,
      secretKey: KEY,
      maxUserNetworks: -1,
    },
  };
});
afterAll(async () => {
  await irccloud?.stop();
  await world?.stop();
});

async function actor(username: string): Promise<Actor> {
  const [row] = await world.db
    .insert(accounts.users)
    .values({ keycloakSubject: `kc-${username}`, username })
    .returning();
  return { id: row!.id, username, plan: "free" };
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

async function nothingKept(a: Actor) {
  const jobs = await world.db
    .select()
    .from(accounts.importJobs)
    .where(eq(accounts.importJobs.userId, a.id));
  expect(jobs).toEqual([]);
  expect((await world.ctx.bouncers.listByOwner(a.id)).items).toEqual([]);
}

describe("IRCCloud import, web side", () => {
  it("a wrong password: a clear error, nothing created", async () => {
    const a = await actor("wrongpw");
    const e = await refusal(previewImport(ctx, a, { ...creds, password: "nope" }));
    expect(e.kind).toBe("BAD_REQUEST");
    expect(e.message).toMatch(/IRCCloud did not accept that email and password/);
    expect(e.message).not.toContain("nope");
    await nothingKept(a);
  });

  it("IRCCloud's rate limit: a clear error, nothing created", async () => {
    const a = await actor("limited");
    irccloud.rateLimited = true;
    try {
      const e = await refusal(previewImport(ctx, a, creds));
      expect(e.kind).toBe("RATE_LIMITED");
      expect(e.message).toMatch(/too many attempts/);
    } finally {
      irccloud.rateLimited = false;
    }
    await nothingKept(a);
  });

  it("a stalled stream: a clear error at the deadline, nothing created", async () => {
    const a = await actor("stalled");
    const e = await refusal(previewImport(ctx, a, { ...creds, email: "stall@example.test" }));
    expect(e.kind).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/did not send your networks within 2 seconds/);
    await nothingKept(a);
  });

  it("without IMPORT_SECRET_KEY the import is off and IRCCloud is not contacted", async () => {
    const a = await actor("nokey");
    const before = irccloud.loginAttempts;
    const e = await refusal(
      previewImport({ ...ctx, import: { ...ctx.import, secretKey: undefined } }, a, creds),
    );
    expect(e.kind).toBe("PRECONDITION_FAILED");
    expect(irccloud.loginAttempts).toBe(before);
  });

  it("preview keeps a draft without IRCCloud credentials; start keeps the choice, creates the bouncer and queues", async () => {
    const a = await actor("dora");
    const preview = await previewImport(ctx, a, creds);
    expect(preview.bouncer).toBeNull();
    expect(preview.networks.map((n) => n.name)).toEqual(["Libera", "OFTC", "Home"]);
    const home = preview.networks[2]!;
    expect(home.hasServerPassword).toBe(true);
    expect(home.channels.find((c) => c.name === "#secret")).toMatchObject({
      keyed: true,
      selected: true,
    });

    const rows =
      JSON.stringify(await world.db.select().from(accounts.importItems)) +
      JSON.stringify(await world.db.select().from(accounts.importJobs));
    for (const secret of [
      creds.password,
      creds.email,
      ...irccloud.sessions,
      "home-server-pass",
      "hunter2",
    ])
      expect(rows).not.toContain(secret);

    // Home without #secret, Libera without #rust; OFTC not at all.
    const libera = preview.networks[0]!;
    const selected = [
      libera.id,
      ...libera.channels.filter((c) => c.name !== "#rust" && c.selected).map((c) => c.id),
      home.id,
      ...home.channels.filter((c) => c.name !== "#secret").map((c) => c.id),
      // A channel of a network left out does not come along.
      preview.networks[1]!.channels[0]!.id,
    ];
    const job = await startImport(ctx, a, { jobId: preview.jobId, selected });
    expect(job.state).toBe("queued");
    expect(job.bouncer).toBe("dora");
    expect(job.steps.map((s) => s.label)).toEqual([
      "Bouncer",
      "Wait for dora to be ready and logged in to irc.now",
      "Add network Libera",
      "Join #libera on Libera",
      "Join #python on Libera",
      "Add network Home",
      "Join #family on Home",
      "Join #garden on Home",
      "Join #music on Home",
    ]);
    expect(job.steps[0]!.detail).toBe("Created your bouncer dora.");
    expect((await world.ctx.bouncers.get("dora"))?.metadata.labels?.["irc.now/owner"]).toBe(a.id);
    // The key of the channel left out is no longer kept.
    const [homeRow] = await world.db
      .select()
      .from(accounts.importItems)
      .where(eq(accounts.importItems.id, home.id));
    const secrets = accounts.openImportSecrets(KEY, preview.jobId, homeRow!.sealed!);
    expect(secrets).toMatchObject({ serverPassword: "home-server-pass", channelKeys: {} });

    // One import at a time: a second start while this one is queued is refused.
    const second = await previewImport(ctx, a, creds);
    expect(second.bouncer).toBe("dora");
    const e = await refusal(
      startImport(ctx, a, { jobId: second.jobId, selected: [second.networks[1]!.id] }),
    );
    expect(e.kind).toBe("CONFLICT");
    expect((await importStatus(ctx, a))?.id).toBe(job.id);
  });
});
