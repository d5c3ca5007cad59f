import { and, asc, desc, eq, inArray, ne, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import { fetchIrccloudAccount } from "../irccloud/client";
import { IrccloudError } from "../irccloud/errors";
import { rateLimiter, RateLimited, type RateLimiter } from "../rate-limit";
import { createBouncer, listMyBouncers } from "./bouncers";
import type { Actor, DomainContext } from "./context";
import { DomainError } from "./errors";
import { networkLimitWarning, planImport } from "./import-plan";
import { bouncerNameSchema } from "./names";

/**
 * The IRCCloud import, web side (issue 15). `previewImport` signs in to IRCCloud with the
 * credentials of this one request, reads the account and keeps a draft job (no IRCCloud
 * credential or session in it; network passwords sealed); `startImport` keeps what the user
 * chose, creates the bouncer when they have none (createBouncer: quota rules apply) and queues
 * the job for the worker; `importStatus` is what the page polls.
 */
export interface ImportSettings {
  irccloudUrl: string;
  irccloudTimeoutMs: number;
  /** IMPORT_SECRET_KEY; undefined: the import is off. */
  secretKey: string | undefined;
  maxUserNetworks: number;
}

export type ImportContext = DomainContext & { import: ImportSettings };

/** Drafts older than this are dropped: a preview is a snapshot, not a standing copy. */
export const DRAFT_TTL_MS = 60 * 60 * 1000;
const PREVIEW_LIMIT = { name: "irccloud-preview", points: 10, durationS: 15 * 60 };
const ITEMS_FROM = 2; // positions 0 and 1: the bouncer and its readiness

export interface PreviewChannel {
  id: string;
  name: string;
  archived: boolean;
  keyed: boolean;
  selected: boolean;
  warnings: string[];
}
export interface PreviewNetwork {
  id: string;
  name: string;
  host: string;
  port: number;
  tls: boolean;
  nick: string;
  hasServerPassword: boolean;
  hasNickserv: boolean;
  selected: boolean;
  warnings: string[];
  channels: PreviewChannel[];
}
export interface ImportPreview {
  jobId: string;
  /** The bouncer the import goes into; null: one is created when the import starts. */
  bouncer: string | null;
  warnings: string[];
  networks: PreviewNetwork[];
}

export type ImportItemKind = accounts.ImportItem["kind"];
export interface ImportStepView {
  id: string;
  kind: ImportItemKind;
  label: string;
  state: accounts.ImportItem["state"];
  detail: string | null;
}
export interface ImportJobView {
  id: string;
  state: Exclude<accounts.ImportJob["state"], "draft">;
  bouncer: string | null;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  steps: ImportStepView[];
  counts: { done: number; skipped: number; failed: number; pending: number };
}

interface NetworkSpec {
  addr: string;
  nick: string;
  username: string;
  realname?: string;
  host: string;
  port: number;
  tls: boolean;
  hasServerPassword: boolean;
  hasNickserv: boolean;
  warnings: string[];
}
interface ChannelSpec {
  archived: boolean;
  keyed: boolean;
  warnings: string[];
}

const limiters = new WeakMap<AccountsDb, RateLimiter>();
function previewLimiter(db: AccountsDb): RateLimiter {
  let limiter = limiters.get(db);
  if (!limiter) limiters.set(db, (limiter = rateLimiter(db, PREVIEW_LIMIT)));
  return limiter;
}

function requireKey(ctx: ImportContext): string {
  if (!ctx.import.secretKey)
    throw new DomainError(
      "PRECONDITION_FAILED",
      "Importing from IRCCloud is not enabled on this server yet.",
    );
  return ctx.import.secretKey;
}

/** Network names earlier imports of this user added (done) to `bouncer`. */
async function importedNetworks(db: AccountsDb, userId: string, bouncer: string | null) {
  if (!bouncer) return new Set<string>();
  const rows = await db
    .select({ network: accounts.importItems.network })
    .from(accounts.importItems)
    .innerJoin(accounts.importJobs, eq(accounts.importItems.jobId, accounts.importJobs.id))
    .where(
      and(
        eq(accounts.importJobs.userId, userId),
        eq(accounts.importJobs.bouncer, bouncer),
        eq(accounts.importItems.kind, "network"),
        eq(accounts.importItems.state, "done"),
      ),
    );
  return new Set(rows.map((r) => (r.network ?? "").toLowerCase()));
}

async function targetBouncer(ctx: DomainContext, actor: Actor): Promise<string | null> {
  const mine = await listMyBouncers(ctx, actor);
  return mine[0]?.name ?? null;
}

export async function previewImport(
  ctx: ImportContext,
  actor: Actor,
  credentials: { email: string; password: string },
): Promise<ImportPreview> {
  const key = requireKey(ctx);
  try {
    await previewLimiter(ctx.db).consume(actor.id);
  } catch (error) {
    if (error instanceof RateLimited)
      throw new DomainError(
        "RATE_LIMITED",
        `Too many IRCCloud sign-ins from your account. Try again in ${Math.ceil(error.retryAfterS / 60)} minutes.`,
      );
    throw error;
  }
  let account;
  try {
    account = await fetchIrccloudAccount({
      baseUrl: ctx.import.irccloudUrl,
      email: credentials.email,
      password: credentials.password,
      deadlineMs: ctx.import.irccloudTimeoutMs,
    });
  } catch (error) {
    if (!(error instanceof IrccloudError)) throw error;
    throw new DomainError(
      error.kind === "RATE_LIMITED"
        ? "RATE_LIMITED"
        : error.kind === "UNAVAILABLE" || error.kind === "TIMEOUT"
          ? "UNAVAILABLE"
          : "BAD_REQUEST",
      error.message,
    );
  }
  const bouncer = await targetBouncer(ctx, actor);
  const imported = await importedNetworks(ctx.db, actor.id, bouncer);
  const planned = planImport(account, imported);
  const warnings: string[] = [];
  if (account.networks.length === 0)
    warnings.push("Your IRCCloud account has no networks, so there is nothing to import.");
  if (account.unreadable > 0)
    warnings.push(
      `IRCCloud sent ${account.unreadable} entr${account.unreadable === 1 ? "y" : "ies"} we could not read; ${account.unreadable === 1 ? "it is" : "they are"} left out.`,
    );
  const limit = networkLimitWarning(
    ctx.import.maxUserNetworks,
    1 + imported.size,
    planned.filter((n) => n.selected).length,
  );
  if (limit) warnings.push(limit);

  const { sealImportSecrets } = accounts;
  return ctx.db.transaction(async (tx) => {
    // One draft per user; and drop everyone's stale drafts (they hold sealed passwords).
    await tx
      .delete(accounts.importJobs)
      .where(
        and(
          eq(accounts.importJobs.state, "draft"),
          sql`(${accounts.importJobs.userId} = ${actor.id} or ${accounts.importJobs.createdAt} < ${new Date(Date.now() - DRAFT_TTL_MS)})`,
        ),
      );
    const [job] = await tx
      .insert(accounts.importJobs)
      .values({ userId: actor.id, state: "draft", bouncer })
      .returning({ id: accounts.importJobs.id });
    const jobId = job!.id;
    const rows: (typeof accounts.importItems.$inferInsert)[] = [];
    let position = ITEMS_FROM;
    for (const n of planned) {
      const keys = Object.fromEntries(
        n.source.channels.filter((c) => c.key).map((c) => [c.name, c.key!]),
      );
      const secrets = {
        serverPassword: n.source.serverPassword,
        nickservAccount: n.source.nickservAccount,
        nickservPassword: n.source.nickservPassword,
        channelKeys: keys,
      };
      const hasSecrets =
        secrets.serverPassword !== undefined ||
        secrets.nickservPassword !== undefined ||
        Object.keys(keys).length > 0;
      const spec: NetworkSpec = {
        addr: n.addr,
        nick: n.nick,
        username: n.nick,
        ...(n.realname ? { realname: n.realname } : {}),
        host: n.host,
        port: n.port,
        tls: n.tls,
        hasServerPassword: n.hasServerPassword,
        hasNickserv: n.hasNickserv,
        warnings: n.warnings,
      };
      rows.push({
        jobId,
        position: position++,
        kind: "network",
        network: n.name,
        selected: n.selected,
        spec,
        sealed: hasSecrets ? sealImportSecrets(key, jobId, secrets) : null,
      });
      for (const c of n.channels) {
        const cspec: ChannelSpec = { archived: c.archived, keyed: c.keyed, warnings: c.warnings };
        rows.push({
          jobId,
          position: position++,
          kind: "channel",
          network: n.name,
          channel: c.name,
          selected: c.selected,
          spec: cspec,
        });
      }
    }
    const items = rows.length ? await tx.insert(accounts.importItems).values(rows).returning() : [];
    return { jobId, bouncer, warnings, networks: previewNetworks(items) };
  });
}

function previewNetworks(items: accounts.ImportItem[]): PreviewNetwork[] {
  const networks: PreviewNetwork[] = [];
  for (const item of [...items].sort((a, b) => a.position - b.position)) {
    if (item.kind === "network") {
      const spec = item.spec as NetworkSpec;
      networks.push({
        id: item.id,
        name: item.network ?? "",
        host: spec.host,
        port: spec.port,
        tls: spec.tls,
        nick: spec.nick,
        hasServerPassword: spec.hasServerPassword,
        hasNickserv: spec.hasNickserv,
        selected: item.selected,
        warnings: spec.warnings,
        channels: [],
      });
    } else if (item.kind === "channel") {
      const spec = item.spec as ChannelSpec;
      networks.at(-1)?.channels.push({
        id: item.id,
        name: item.channel ?? "",
        archived: spec.archived,
        keyed: spec.keyed,
        selected: item.selected,
        warnings: spec.warnings,
      });
    }
  }
  return networks;
}

/** A bouncer name for a user who has none: their username as a DNS label. */
export function defaultBouncerName(username: string): string {
  const name = username
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  if (bouncerNameSchema.safeParse(name).success) return name;
  return `${name.slice(0, 55) || "my"}-bouncer`.replace(/^-+/, "");
}

export async function startImport(
  ctx: ImportContext,
  actor: Actor,
  input: { jobId: string; selected: string[] },
): Promise<ImportJobView> {
  const key = requireKey(ctx);
  const [job] = await ctx.db
    .select()
    .from(accounts.importJobs)
    .where(
      and(
        eq(accounts.importJobs.id, input.jobId),
        eq(accounts.importJobs.userId, actor.id),
        eq(accounts.importJobs.state, "draft"),
      ),
    );
  if (!job || job.createdAt.getTime() < Date.now() - DRAFT_TTL_MS)
    throw new DomainError(
      "NOT_FOUND",
      "This preview has expired or was replaced. Sign in to IRCCloud again to see a fresh one.",
    );
  const items = await ctx.db
    .select()
    .from(accounts.importItems)
    .where(eq(accounts.importItems.jobId, job.id))
    .orderBy(asc(accounts.importItems.position));
  const chosen = new Set(input.selected);
  const keep = new Set<string>();
  let network: accounts.ImportItem | undefined;
  for (const item of items) {
    if (item.kind === "network") network = item;
    if (!chosen.has(item.id)) continue;
    // A channel only comes with its network.
    if (item.kind === "channel" && (!network || !chosen.has(network.id))) continue;
    keep.add(item.id);
  }
  if (![...keep].some((id) => items.find((i) => i.id === id)?.kind === "network"))
    throw new DomainError("BAD_REQUEST", "Select at least one network to import.");

  const active = await activeJob(ctx.db, actor.id);
  if (active)
    throw new DomainError(
      "CONFLICT",
      "An import is already running for your account. Wait for it to finish, then start another.",
    );

  let bouncer = await targetBouncer(ctx, actor);
  let bouncerStep: string;
  if (bouncer) bouncerStep = `Using your bouncer ${bouncer}.`;
  else {
    bouncer = (await createBouncer(ctx, actor, defaultBouncerName(actor.username))).name;
    bouncerStep = `Created your bouncer ${bouncer}.`;
  }

  await ctx.db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtextextended(${"import-start:" + actor.id}, 0))`,
    );
    if (await activeJob(tx, actor.id))
      throw new DomainError(
        "CONFLICT",
        "An import is already running for your account. Wait for it to finish, then start another.",
      );
    const dropped = items.filter((i) => !keep.has(i.id)).map((i) => i.id);
    if (dropped.length)
      await tx.delete(accounts.importItems).where(inArray(accounts.importItems.id, dropped));
    // Keys of channels left out are not kept: re-seal each network with its chosen channels only.
    const { openImportSecrets, sealImportSecrets } = accounts;
    for (const n of items) {
      if (n.kind !== "network" || !keep.has(n.id) || !n.sealed) continue;
      const secrets = openImportSecrets(key, job.id, n.sealed);
      const chosenChannels = new Set(
        items
          .filter((c) => c.kind === "channel" && c.network === n.network && keep.has(c.id))
          .map((c) => c.channel),
      );
      secrets.channelKeys = Object.fromEntries(
        Object.entries(secrets.channelKeys ?? {}).filter(([name]) => chosenChannels.has(name)),
      );
      await tx
        .update(accounts.importItems)
        .set({ sealed: sealImportSecrets(key, job.id, secrets) })
        .where(eq(accounts.importItems.id, n.id));
    }
    await tx.insert(accounts.importItems).values([
      { jobId: job.id, position: 0, kind: "bouncer", state: "done", detail: bouncerStep },
      { jobId: job.id, position: 1, kind: "ready", state: "pending" },
    ]);
    await tx
      .update(accounts.importJobs)
      .set({ state: "queued", bouncer, updatedAt: new Date() })
      .where(eq(accounts.importJobs.id, job.id));
  });
  const view = await importStatus(ctx, actor);
  return view!;
}

async function activeJob(db: Pick<AccountsDb, "select">, userId: string) {
  const [row] = await db
    .select({ id: accounts.importJobs.id })
    .from(accounts.importJobs)
    .where(
      and(
        eq(accounts.importJobs.userId, userId),
        inArray(accounts.importJobs.state, ["queued", "running"]),
      ),
    );
  return row ?? null;
}

function stepLabel(item: accounts.ImportItem, bouncer: string | null): string {
  switch (item.kind) {
    case "bouncer":
      return "Bouncer";
    case "ready":
      return `Wait for ${bouncer ?? "the bouncer"} to be ready and logged in to irc.now`;
    case "network":
      return `Add network ${item.network ?? ""}`;
    case "channel":
      return `Join ${item.channel ?? ""} on ${item.network ?? ""}`;
  }
}

/** The caller's latest started import (null: none), with every step. */
export async function importStatus(
  ctx: Pick<DomainContext, "db">,
  actor: Actor,
): Promise<ImportJobView | null> {
  const [job] = await ctx.db
    .select()
    .from(accounts.importJobs)
    .where(and(eq(accounts.importJobs.userId, actor.id), ne(accounts.importJobs.state, "draft")))
    .orderBy(desc(accounts.importJobs.createdAt))
    .limit(1);
  if (!job || job.state === "draft") return null;
  const items = await ctx.db
    .select()
    .from(accounts.importItems)
    .where(eq(accounts.importItems.jobId, job.id))
    .orderBy(asc(accounts.importItems.position));
  const counts = { done: 0, skipped: 0, failed: 0, pending: 0 };
  for (const i of items) {
    if (i.state === "done") counts.done++;
    else if (i.state === "skipped") counts.skipped++;
    else if (i.state === "failed") counts.failed++;
    else counts.pending++;
  }
  return {
    id: job.id,
    state: job.state,
    bouncer: job.bouncer,
    error: job.error,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    steps: items.map((i) => ({
      id: i.id,
      kind: i.kind,
      label: stepLabel(i, job.bouncer),
      state: i.state,
      detail: i.detail,
    })),
    counts,
  };
}
