import { accounts } from "@irc-now/db";
import { isConfigured, isReady } from "@irc-now/k8s";
import {
  channelCreateWords,
  isChannelExistsReply,
  isNetworkLimitReply,
  keyedJoinCommand,
  networkCreateWords,
  parseNetworkExists,
  SojuCommandFailed,
  type SojuAdmin,
} from "@irc-now/soju";
import type { Logger } from "pino";
import type { BouncerStore } from "../ports";
import type { ImportItem, ImportJob, ImportStore } from "./ports";

/**
 * The IRCCloud import job (issue 15), one step per call: `advanceImports` looks at every active
 * job and moves each as far as it can — wait for the bouncer (Ready and the irc.now upstream
 * configured), then per network `network create` (disabled until `sasl set-plain` when there is
 * a NickServ password), then its channels (`channel create #chan/<network>`; keyed channels go
 * in as connect commands, soju having no key flag). Every item's state is written before and
 * after its command, so a restart or a new leader resumes where it stopped, and what already
 * exists in soju is taken as done: importing twice adds nothing twice.
 */
export interface ImportDeps {
  store: ImportStore;
  bouncers: Pick<BouncerStore, "get">;
  soju: Pick<SojuAdmin, "userRun" | "setSaslPlain" | "enableNetwork" | "networkStatus">;
  /** IMPORT_SECRET_KEY: opens the sealed passwords and keys. */
  secretKey: string | undefined;
  log: Logger;
  settings: ImportSettings;
  now?: () => number;
}

export interface ImportSettings {
  /** How long a job waits for its bouncer to be ready and configured (15 min). */
  readyTimeoutMs: number;
  /** How long a job may keep retrying a soju that cannot be reached (30 min from its start). */
  jobTimeoutMs: number;
}

export const defaultImportSettings: ImportSettings = {
  readyTimeoutMs: 15 * 60_000,
  jobTimeoutMs: 30 * 60_000,
};

interface NetworkSpec {
  addr: string;
  nick: string;
  username: string;
  realname?: string;
}

/** Moves every active job forward; one job's failure never stops the others. */
export async function advanceImports(deps: ImportDeps): Promise<void> {
  for (const job of await deps.store.activeJobs()) {
    try {
      await advanceJob(deps, job);
    } catch (error) {
      deps.log.warn(
        { importJob: job.id, error: error instanceof Error ? error.message : String(error) },
        "import job step failed; retrying on the next pass",
      );
      // A soju or cluster that stays unreachable ends the job rather than retrying for ever.
      await retryLater(
        deps,
        job,
        (job.startedAt ?? job.createdAt).getTime(),
        (deps.now ?? Date.now)(),
      ).catch(() => undefined);
    }
  }
}

const terminal = (i: ImportItem) =>
  i.state === "done" || i.state === "skipped" || i.state === "failed";

export async function advanceJob(deps: ImportDeps, queued: ImportJob): Promise<void> {
  const { store, log } = deps;
  const now = deps.now ?? Date.now;
  const job = queued.state === "queued" ? await store.markRunning(queued.id) : queued;
  const startedAt = (job.startedAt ?? job.createdAt).getTime();
  const jlog = log.child({ importJob: job.id, bouncer: job.bouncer });
  if (!job.bouncer) return store.finish(job.id, "failed", "The import has no bouncer to go into.");
  let items = await store.items(job.id);

  // 1. The bouncer: Ready and its irc.now upstream configured (the worker's own setup).
  const ready = items.find((i) => i.kind === "ready");
  const cr = await deps.bouncers.get(job.bouncer);
  if (!cr) {
    await markRest(store, items, `Not done: the bouncer ${job.bouncer} was deleted.`);
    return store.finish(
      job.id,
      "failed",
      `Your bouncer ${job.bouncer} was deleted during the import.`,
    );
  }
  if (ready && !terminal(ready)) {
    if (!isReady(cr) || !isConfigured(cr)) {
      if (now() - startedAt > deps.settings.readyTimeoutMs) {
        await store.setItem(ready.id, "failed", "The bouncer did not become ready in time.");
        await markRest(store, items, "Not done: the bouncer did not become ready.");
        return store.finish(
          job.id,
          "failed",
          `Your bouncer ${job.bouncer} did not become ready within ${Math.round(deps.settings.readyTimeoutMs / 60_000)} minutes. Check it on the dashboard, then import again.`,
        );
      }
      return; // not yet: the next pass looks again
    }
    await store.setItem(ready.id, "done", "Ready, and logged in to irc.now.");
    jlog.info("import: bouncer ready");
  }
  const user = cr.spec.username;

  // 2. Networks, each followed by its channels.
  items = await store.items(job.id);
  const existing = new Set(
    (await deps.soju.networkStatus(job.bouncer, user)).map((n) => n.name.toLowerCase()),
  );
  const networkOutcome = new Map<string, { state: ImportItem["state"]; keyed: Set<string> }>();
  for (const item of items) {
    if (item.kind === "network") {
      const name = item.network ?? "";
      if (terminal(item)) {
        networkOutcome.set(name, { state: item.state, keyed: keyedChannels(deps, job, item) });
        continue;
      }
      const outcome = await addNetwork(deps, job, user, item, existing, jlog);
      if (outcome === "retry") return retryLater(deps, job, startedAt, now());
      networkOutcome.set(name, outcome);
    } else if (item.kind === "channel" && !terminal(item)) {
      const network = networkOutcome.get(item.network ?? "");
      const result = await addChannel(deps, job, user, item, network);
      if (result === "retry") return retryLater(deps, job, startedAt, now());
    }
  }
  const final = await store.items(job.id);
  if (final.every(terminal)) {
    const failed = final.filter((i) => i.state === "failed").length;
    jlog.info({ items: final.length, failed }, "import finished");
    await store.finish(job.id, "succeeded", null);
  }
}

function secretsOf(deps: ImportDeps, job: ImportJob, item: ImportItem): accounts.ImportSecrets {
  if (!item.sealed) return {};
  if (!deps.secretKey)
    throw new Error("IMPORT_SECRET_KEY is not set: cannot open the sealed passwords");
  return accounts.openImportSecrets(deps.secretKey, job.id, item.sealed);
}

/** Channels of a network carried as connect commands (their keys were sealed with it). */
function keyedChannels(deps: ImportDeps, job: ImportJob, item: ImportItem): Set<string> {
  try {
    return new Set(Object.keys(secretsOf(deps, job, item).channelKeys ?? {}));
  } catch {
    return new Set();
  }
}

async function addNetwork(
  deps: ImportDeps,
  job: ImportJob,
  user: string,
  item: ImportItem,
  existing: Set<string>,
  log: Logger,
): Promise<{ state: ImportItem["state"]; keyed: Set<string> } | "retry"> {
  const { store, soju } = deps;
  const bouncer = job.bouncer!;
  const name = item.network ?? "";
  const spec = item.spec as NetworkSpec;
  // A network that was there before this job touched it is left alone (it may be the user's).
  if (item.state === "pending" && existing.has(name.toLowerCase())) {
    await store.setItem(
      item.id,
      "skipped",
      `A network named ${name} is already in your bouncer; left as it is.`,
      true,
    );
    return { state: "skipped", keyed: new Set() };
  }
  let secrets: accounts.ImportSecrets;
  try {
    secrets = secretsOf(deps, job, item);
  } catch (error) {
    log.error(
      { network: name, error: (error as Error).message },
      "import: sealed secrets unreadable",
    );
    await store.setItem(
      item.id,
      "failed",
      "Its saved passwords could not be read (a server setting changed). Import it again.",
      true,
    );
    return { state: "failed", keyed: new Set() };
  }
  const connectCommands: string[] = [];
  const keyed = new Set<string>();
  for (const [channel, key] of Object.entries(secrets.channelKeys ?? {})) {
    const command = keyedJoinCommand(channel, key);
    if (command && connectCommands.length < 20) {
      connectCommands.push(command);
      keyed.add(channel);
    }
  }
  const sasl =
    secrets.nickservPassword !== undefined
      ? { username: secrets.nickservAccount ?? spec.nick, password: secrets.nickservPassword }
      : undefined;
  await store.setItem(item.id, "applying", null);
  try {
    try {
      await soju.userRun(
        bouncer,
        user,
        networkCreateWords({
          name,
          addr: spec.addr,
          nick: spec.nick,
          username: spec.username,
          realname: spec.realname,
          pass: secrets.serverPassword,
          connectCommands,
          enabled: sasl === undefined,
        }),
      );
    } catch (error) {
      // Created by this job before a restart: go on with what follows the create.
      if (!(error instanceof SojuCommandFailed && parseNetworkExists(error.reply) !== undefined))
        throw error;
    }
    if (sasl) {
      await soju.setSaslPlain(bouncer, user, name, sasl.username, sasl.password);
      await soju.enableNetwork(bouncer, user, name);
    }
  } catch (error) {
    if (error instanceof SojuCommandFailed) {
      const why = isNetworkLimitReply(error.reply)
        ? "your bouncer has reached soju's limit of networks"
        : `soju said: ${error.reply}`;
      await store.setItem(item.id, "failed", `Not added: ${why}.`, true);
      log.info({ network: name }, "import: network refused by soju");
      return { state: "failed", keyed };
    }
    log.warn(
      { network: name, error: (error as Error).message },
      "import: soju unreachable; retrying",
    );
    return "retry";
  }
  const extras = [
    secrets.serverPassword !== undefined ? "server password" : null,
    sasl ? "SASL login" : null,
  ].filter(Boolean);
  await store.setItem(
    item.id,
    "done",
    `Added (${spec.addr}${extras.length ? `, with ${extras.join(" and ")}` : ""}).`,
    true,
  );
  log.info({ network: name }, "import: network added");
  return { state: "done", keyed };
}

async function addChannel(
  deps: ImportDeps,
  job: ImportJob,
  user: string,
  item: ImportItem,
  network: { state: ImportItem["state"]; keyed: Set<string> } | undefined,
): Promise<"ok" | "retry"> {
  const { store, soju } = deps;
  const channel = item.channel ?? "";
  const net = item.network ?? "";
  if (!network || network.state === "failed") {
    await store.setItem(item.id, "failed", `Not joined: the network ${net} could not be added.`);
    return "ok";
  }
  if (network.keyed.has(channel)) {
    await store.setItem(
      item.id,
      "done",
      `Joined with its key by a connect command of ${net} (soju cannot store channel keys).`,
    );
    return "ok";
  }
  if ((item.spec as { keyed?: boolean }).keyed) {
    await store.setItem(
      item.id,
      "skipped",
      `Not joined: it needs a key, and ${net} was already in your bouncer.`,
    );
    return "ok";
  }
  try {
    await soju.userRun(job.bouncer!, user, channelCreateWords(channel, net));
    await store.setItem(item.id, "done", "Joined.");
  } catch (error) {
    if (!(error instanceof SojuCommandFailed)) return "retry";
    if (isChannelExistsReply(error.reply)) await store.setItem(item.id, "done", "Already there.");
    else await store.setItem(item.id, "failed", `Not joined: soju said: ${error.reply}.`);
  }
  return "ok";
}

async function retryLater(
  deps: ImportDeps,
  job: ImportJob,
  startedAt: number,
  now: number,
): Promise<void> {
  if (now - startedAt <= deps.settings.jobTimeoutMs) return;
  const fresh = await deps.store.items(job.id);
  await markRest(deps.store, fresh, "Not done: the bouncer could not be reached.");
  await deps.store.finish(
    job.id,
    "failed",
    `Your bouncer ${job.bouncer} could not be reached for ${Math.round(deps.settings.jobTimeoutMs / 60_000)} minutes, so the import stopped. What is marked done is in your bouncer.`,
  );
}

async function markRest(store: ImportStore, items: ImportItem[], detail: string): Promise<void> {
  for (const i of items) if (!terminal(i)) await store.setItem(i.id, "failed", detail, true);
}
