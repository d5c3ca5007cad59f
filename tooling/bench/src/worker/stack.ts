/**
 * The stand-in stack the worker benchmarks run on: embedded PostgreSQL, the Kubernetes API
 * stand-in, the ergo stand-in, and (worker bench) one simulated soju-operator per namespace (one
 * soju stand-in and one tenant database per bouncer). Plus the accounts-DB users that own the
 * bouncers (the worker records ergo-account ownership with a foreign key to `users.id`, so every
 * CR's `irc.now/owner` label is a real user's id, as the web app sets it).
 *
 * Two shapes: `startStack` runs the stand-ins in this process (bench:worker-scale, which writes
 * objects straight into the API stand-in's store and runs the measured worker as a process of
 * its own); `startSplitStack` runs them in a peers process (./peers-host.ts), so a worker in this
 * process has its core to itself as in production (bench:worker).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { accounts, closeSojuDb, createAccountsDb, createSojuDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase, startEmbeddedPostgres, type EmbeddedPg } from "@irc-now/db/testing";
import { startErgoStandin } from "@irc-now/standins/ergo";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import { startPeersProcess, type PeersProcess } from "./peers";
import type { PeersInfo } from "./peers-protocol";
import { chunks, sleep } from "./stats";

export const CR = "sojubouncers.irc.now";

export interface Stack {
  pg: EmbeddedPg;
  dir: string;
  kubeconfig: string;
  accountsUrl: string;
  ergo: PeersInfo["ergo"];
  /** Environment for the worker's config (loadWorkerConfig) in `namespace`. */
  workerEnv(namespace: string, extra?: Record<string, string>): Record<string, string>;
  /** PostgreSQL client connections right now. */
  pgConnections(): Promise<number>;
  /**
   * Accounts-DB user ids (`users.id`) of `usernames`, each created on first use as the portal
   * does at sign-in (as apps/worker/test/support/harness.ts `userId()`), in batches.
   */
  ownerIds(usernames: readonly string[]): Promise<Map<string, string>>;
  stop(): Promise<void>;
}
/** Stand-ins in this process. */
export interface LocalStack extends Stack {
  kube: KubeStandin;
}
/** Stand-ins in the peers process. */
export interface SplitStack extends Stack {
  peers: PeersProcess;
}

type Undo = (() => Promise<unknown>)[];
interface StandIns {
  kubeconfig: string;
  ergo: PeersInfo["ergo"];
}

async function startWith<T extends StandIns>(
  log: (line: string) => void,
  maxPgConnections: number,
  startStandIns: (ctx: { dir: string; pg: EmbeddedPg; undo: Undo }) => Promise<T>,
): Promise<Stack & T> {
  const undo: Undo = [];
  const stopAll = async () => {
    for (const u of undo.splice(0).reverse())
      await u().catch((e: unknown) => log(`teardown step failed: ${String(e)}`));
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), "irc-now-bench-worker-"));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    // We stop PostgreSQL ourselves (also on SIGINT/SIGTERM, see worker.ts).
    const pg = await startEmbeddedPostgres({
      handleSignals: false,
      maxConnections: maxPgConnections,
    });
    undo.push(() => pg.stop());
    const accountsUrl = await createTestDatabase(pg.url(), "bench_worker");
    await migrateAccounts(accountsUrl);
    const standIns = await startStandIns({ dir, pg, undo });
    const { ergo, kubeconfig } = standIns;
    const monitor = createSojuDb(pg.url(), { max: 1 });
    undo.push(() => closeSojuDb(monitor));
    const users = createAccountsDb(accountsUrl, { max: 1 });
    undo.push(() => users.$client.end());
    return {
      ...standIns,
      pg,
      dir,
      accountsUrl,
      workerEnv: (namespace, extra = {}) => ({
        DATABASE_URL: accountsUrl,
        KUBECONFIG: kubeconfig,
        K8S_NAMESPACE: namespace,
        ERGO_IRC_URL: ergo.ircUrl,
        ERGO_OPER_NAME: ergo.oper.name,
        ERGO_OPER_PASSWORD: ergo.oper.password,
        SOJU_ADMIN: "exec",
        SOJU_UPSTREAM_ADDR: `irc+insecure://127.0.0.1:${ergo.ircPort}`,
        // No Keycloak in the benches: the outbox stays empty, so nothing is pushed.
        KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
        KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
        KEYCLOAK_ADMIN_CLIENT_SECRET: "unused-in-benches",
        LOG_LEVEL: "info",
        ...extra,
      }),
      async pgConnections() {
        const r = await monitor.$client.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'",
        );
        return Number(r.rows[0]?.n ?? 0);
      },
      async ownerIds(usernames) {
        const out = new Map<string, string>();
        for (const batch of chunks(usernames, 1000)) {
          const rows = await users
            .insert(accounts.users)
            .values(batch.map((username) => ({ keycloakSubject: `kc-${username}`, username })))
            .onConflictDoUpdate({ target: accounts.users.username, set: { updatedAt: sql`now()` } })
            .returning({ id: accounts.users.id, username: accounts.users.username });
          for (const r of rows) out.set(r.username, r.id);
        }
        return out;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** PostgreSQL here, the stand-ins in this process. */
export function startStack(namespaces: string[], log: (line: string) => void): Promise<LocalStack> {
  return startWith(log, 200, async ({ dir, undo }) => {
    const kube = await startKubeStandin({ namespaces });
    undo.push(() => kube.stop());
    const kubeconfig = join(dir, "kubeconfig");
    await kube.writeKubeConfig(kubeconfig);
    const ergo = await startErgoStandin();
    undo.push(() => ergo.stop());
    return {
      kube,
      kubeconfig,
      ergo: { ircUrl: ergo.ircUrl, ircPort: ergo.ircPort, oper: ergo.oper },
    };
  });
}

/** PostgreSQL here, the stand-ins and operators in the peers process. */
export function startSplitStack(
  namespaces: string[],
  log: (line: string) => void,
): Promise<SplitStack> {
  // Every soju stand-in keeps its DB connection 10 s after its last command: at the floor's
  // pace, with the stand-ins on a core of their own, that is more than 200 at once.
  return startWith(log, 500, async ({ dir, pg, undo }) => {
    const peers = await startPeersProcess({ namespaces, dir, postgresUrl: pg.url() });
    undo.push(() => peers.stop());
    return { peers, kubeconfig: peers.kubeconfig, ergo: peers.ergo };
  });
}

/** Samples PostgreSQL connections while a phase runs; returns the peak. */
export function pgPeak(stack: Stack): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await stack.pgConnections().catch(() => 0));
      await sleep(500);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}
