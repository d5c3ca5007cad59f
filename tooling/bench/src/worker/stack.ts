/**
 * The stand-in stack the worker benchmark runs on: embedded PostgreSQL, the Kubernetes API
 * stand-in, the ergo stand-in, and one simulated soju-operator per namespace (one soju stand-in
 * and one tenant database per bouncer). Plus a tracker that timestamps each bouncer's Ready and
 * annotation transitions as the API stand-in commits them, and the accounts-DB users that own the
 * bouncers (the worker records ergo-account ownership with a foreign key to `users.id`, so every
 * CR's `irc.now/owner` label is a real user's id, as the web app sets it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { accounts, closeSojuDb, createAccountsDb, createSojuDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase, startEmbeddedPostgres, type EmbeddedPg } from "@irc-now/db/testing";
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  LABEL_OWNER,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_KIND,
  type SojuBouncer,
} from "@irc-now/k8s";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import { startKubeStandin, type KubeStandin, type StoreEvent } from "@irc-now/standins/kube";
import { startOperator, type Operator } from "@irc-now/standins/operator";
import { chunks, sleep, until } from "./stats";

export const CR = "sojubouncers.irc.now";

export interface Stack {
  pg: EmbeddedPg;
  kube: KubeStandin;
  ergo: ErgoStandin;
  dir: string;
  kubeconfig: string;
  accountsUrl: string;
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

export async function startStack(
  namespaces: string[],
  log: (line: string) => void,
): Promise<Stack> {
  const undo: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const u of undo.splice(0).reverse())
      await u().catch((e: unknown) => log(`teardown step failed: ${String(e)}`));
  };
  try {
    const dir = await mkdtemp(join(tmpdir(), "irc-now-bench-worker-"));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    // We stop PostgreSQL ourselves (also on SIGINT/SIGTERM, see worker.ts).
    const pg = await startEmbeddedPostgres({ handleSignals: false });
    undo.push(() => pg.stop());
    const accountsUrl = await createTestDatabase(pg.url(), "bench_worker");
    await migrateAccounts(accountsUrl);
    const kube = await startKubeStandin({ namespaces });
    undo.push(() => kube.stop());
    const kubeconfig = join(dir, "kubeconfig");
    await kube.writeKubeConfig(kubeconfig);
    const ergo = await startErgoStandin();
    undo.push(() => ergo.stop());
    const monitor = createSojuDb(pg.url(), { max: 1 });
    undo.push(() => closeSojuDb(monitor));
    const users = createAccountsDb(accountsUrl, { max: 1 });
    undo.push(() => users.$client.end());
    return {
      pg,
      kube,
      ergo,
      dir,
      kubeconfig,
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

const readyOf = (o: StoreEvent["object"] | undefined) =>
  (o?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find(
    (c) => c.type === "Ready",
  )?.status === "True";
const annotatedOf = (o: StoreEvent["object"] | undefined) =>
  o?.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED] === "true";

/** performance.now() of each bouncer's first Ready=True and first annotation, as committed. */
export class Tracker {
  readonly ready = new Map<string, number>();
  readonly annotated = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    kube: KubeStandin,
    readonly namespace: string,
    private readonly onReady?: (bouncer: SojuBouncer) => void,
  ) {
    this.unsubscribe = kube.objects.watch((event) => {
      const o = event.object;
      if (o.metadata.namespace !== namespace || event.type === "DELETED") return;
      const name = o.metadata.name;
      const now = performance.now();
      if (readyOf(o) && !this.ready.has(name)) {
        this.ready.set(name, now);
        this.onReady?.(o as unknown as SojuBouncer);
      }
      if (annotatedOf(o) && !this.annotated.has(name)) this.annotated.set(name, now);
    }, CR);
  }

  /** Ready → annotated in ms for each name that has both. */
  latencies(names: readonly string[]): number[] {
    return names.flatMap((n) => {
      const r = this.ready.get(n);
      const a = this.annotated.get(n);
      return r !== undefined && a !== undefined ? [a - r] : [];
    });
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** A SojuBouncer as the web app creates it: username = name, owned by the user `ownerId`. */
export function createBouncerCr(
  kube: KubeStandin,
  namespace: string,
  name: string,
  ownerId: string,
): void {
  kube.objects.create(CR, {
    apiVersion: SOJU_BOUNCER_API_VERSION,
    kind: SOJU_BOUNCER_KIND,
    metadata: { name, namespace, labels: { [LABEL_OWNER]: ownerId } },
    spec: { username: name, plan: "free" },
  });
}

export interface Namespace {
  name: string;
  operator: Operator;
  tracker: Tracker;
  created: string[];
}

/**
 * A namespace with its own simulated operator. `readyDelayMs` is the operator's delay between the
 * soju pod running and Ready=True (the soju user is created meanwhile, userDelayMs 0, as in the
 * worker's test harness).
 */
export function openNamespace(
  stack: Stack,
  name: string,
  readyDelayMs: number,
  onReady?: (bouncer: SojuBouncer) => void,
): Namespace {
  const operator = startOperator({
    kube: stack.kube,
    postgresUrl: stack.pg.url(),
    namespace: name,
    adminSocketPath: join(stack.dir, name, "{name}", "admin.sock"),
    readyDelayMs,
  });
  return { name, operator, tracker: new Tracker(stack.kube, name, onReady), created: [] };
}

/**
 * Creates `names` (each owned by its own user, created first) in chunks of `parallel`, waiting
 * for each chunk to be Ready, and keeping
 * PostgreSQL below `maxPgConnections` (the embedded server allows 200; every soju stand-in pool
 * keeps an idle connection for 10 s).
 */
export async function provision(
  stack: Stack,
  ns: Namespace,
  names: readonly string[],
  opts: { parallel: number; maxPgConnections: number; onProgress?: (done: number) => void },
): Promise<void> {
  const owners = await stack.ownerIds(names);
  let done = 0;
  for (const chunk of chunks(names, opts.parallel)) {
    await until(
      async () => (await stack.pgConnections()) < opts.maxPgConnections,
      "PostgreSQL connections to drop",
      60_000,
      250,
    );
    for (const name of chunk) {
      createBouncerCr(stack.kube, ns.name, name, owners.get(name)!);
      ns.created.push(name);
    }
    await until(
      () => chunk.every((n) => ns.tracker.ready.has(n)),
      `bouncers ${chunk[0]}… to be Ready`,
      120_000,
    );
    done += chunk.length;
    opts.onProgress?.(done);
  }
}

/** Deletes the namespace's bouncers (operator: soju stopped, pod, secret and DB removed), then stops its operator. */
export async function closeNamespace(stack: Stack, ns: Namespace, parallel = 10): Promise<void> {
  ns.tracker.stop();
  for (const chunk of chunks(ns.created, parallel)) {
    for (const name of chunk)
      if (stack.kube.objects.find(CR, ns.name, name)) stack.kube.objects.delete(CR, ns.name, name);
    await until(
      () => chunk.every((n) => !stack.kube.objects.find("secrets", ns.name, `${n}-db`)),
      "bouncer teardown",
      120_000,
    ).catch(() => undefined);
  }
  ns.created.length = 0;
  await ns.operator.stop();
  // Let the soju pools' idle connections go before the next phase measures anything.
  await until(
    async () => (await stack.pgConnections()) < 20,
    "PostgreSQL connections to drop",
    30_000,
    250,
  ).catch(() => undefined);
  await sleep(500);
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
