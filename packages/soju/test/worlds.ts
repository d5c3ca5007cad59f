/**
 * The systems a SojuAdmin contract suite runs against: the stand-ins (`World` of ./helpers, in
 * `npm test`) or the real programs of the peers kit (`npm run test:peers`, REAL_PEERS=1): real
 * soju 0.10.1 per bouncer (own state dir, tenant DB and ports), the real ergo 2.15.0 upstream,
 * the real kube-apiserver for secrets and pods, and the embedded PostgreSQL.
 *
 * The real kube-apiserver has no kubelet: pods stay Pending and `pods/exec` cannot work, so the
 * `exec` adapter is stand-in only. For `sql-restart` this file plays the Deployment: a deleted
 * bouncer pod is replaced at once, then the real soju process is restarted from its state dir
 * (what a new container does), so the suite checks that the real soju loads what the adapter
 * wrote.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from "@kubernetes/client-node";
import {
  closeSojuDb,
  createSojuDb,
  type sojuNetwork,
  type sojuUser,
  type SojuDb,
} from "@irc-now/db/soju";
import { readTenantDbUrl } from "@irc-now/k8s";
import {
  createDatabase,
  ergoProbe,
  kubeconfigYaml,
  startSoju,
  type ErgoProbe,
  type PeersContext,
  type RealSoju,
} from "@irc-now/peers";
import { createSojuAdmin, type SojuAdmin } from "../src/index";
import { captureLogger, sojuNetworkRows, sojuUserRow, World, type Mode } from "./helpers";

/** What the contract cases use of a bouncer: its tenant DB and its restarts. */
export interface ContractBouncer {
  readonly name: string;
  /** Pods deleted so far (each one restarts soju). */
  readonly restarts: number;
  /** Waits until every pod deletion so far has been handled (soju restarted, pod back). */
  settled(): Promise<void>;
  user(username: string): Promise<typeof sojuUser.$inferSelect | undefined>;
  networks(username: string, name?: string): Promise<Array<typeof sojuNetwork.$inferSelect>>;
}

export interface ContractWorld {
  readonly kind: "standin" | "real";
  /** `irc+insecure://127.0.0.1:<ergo port>` */
  readonly upstreamAddr: string;
  readonly ergo: {
    /** SAREGISTER, arranged outside the code under test. */
    registerAccount(account: string, password: string): Promise<void>;
    /** The account a connected nick is logged into (WHOIS 330), or null. */
    whoisAccount(nick: string): Promise<string | null>;
  };
  start(): Promise<void>;
  stop(): Promise<void>;
  bouncer(name: string): Promise<ContractBouncer>;
  admin(mode: Mode, logs: string[]): SojuAdmin;
}

/** The stand-ins, exactly as ./helpers wires them. */
export class StandinWorld implements ContractWorld {
  readonly kind = "standin";
  private readonly world = new World();
  readonly ergo = {
    registerAccount: (account: string, password: string) =>
      this.world.ergo.registerAccount(account, password),
    whoisAccount: async (nick: string) => this.world.ergo.whoisAccount(nick),
  };
  get upstreamAddr(): string {
    return this.world.upstreamAddr;
  }
  start(): Promise<void> {
    return this.world.start();
  }
  stop(): Promise<void> {
    return this.world.stop();
  }
  bouncer(name: string): Promise<ContractBouncer> {
    return this.world.bouncer(name);
  }
  admin(mode: Mode, logs: string[]): SojuAdmin {
    return this.world.admin(mode, logs);
  }
}

export const NS = "irc-now";

/** Real peers, from the run's globalSetup (`inject("peers")`). */
export class RealWorld implements ContractWorld {
  readonly kind = "real";
  readonly ergo: ErgoProbe;
  private readonly kubeConfig = new KubeConfig();
  private readonly core: CoreV1Api;
  private dir = "";
  private readonly cleanups: Array<() => Promise<unknown>> = [];

  constructor(private readonly peers: PeersContext) {
    if (!peers.ergo || !peers.kube || !peers.postgresUrl)
      throw new Error("the real world needs ergo, kube and postgres from the peers globalSetup");
    this.ergo = ergoProbe(peers.ergo);
    this.kubeConfig.loadFromString(kubeconfigYaml(peers.kube));
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
  }

  get upstreamAddr(): string {
    return `irc+insecure://127.0.0.1:${this.peers.ergo?.port}`;
  }

  async start(): Promise<void> {
    // Short: <dir>/<bouncer>/admin.sock must stay within the 100 characters of a unix socket path.
    this.dir = await mkdtemp(join(this.peers.stateRoot, "w-"));
    await ignoreConflict(() => this.core.createNamespace({ body: { metadata: { name: NS } } }));
    // No controller-manager: nobody creates the default ServiceAccount a Pod needs.
    await ignoreConflict(() =>
      this.core.createNamespacedServiceAccount({
        namespace: NS,
        body: { metadata: { name: "default" } },
      }),
    );
  }

  async stop(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      await Promise.race([
        cleanup().catch(() => undefined),
        new Promise((r) => setTimeout(r, 30_000).unref()),
      ]);
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private get socketTemplate(): string {
    return join(this.dir, "{name}", "admin.sock");
  }

  admin(mode: Mode, logs: string[]): SojuAdmin {
    if (mode === "exec")
      throw new Error("exec needs pods/exec, which a kube-apiserver without kubelet cannot do");
    const admin = createSojuAdmin(
      {
        SOJU_ADMIN: mode,
        SOJU_ADMIN_SOCKET: this.socketTemplate,
        SOJU_POD_SELECTOR: "irc.now/bouncer={name}",
        SOJU_CONTAINER: "soju",
        SOJU_CONFIG_PATH: "/etc/soju/config",
        namespace: NS,
      },
      {
        kubeConfig: this.kubeConfig,
        core: this.core,
        tenantDbUrl: (bouncer) => readTenantDbUrl(this.core, NS, bouncer),
        logger: captureLogger(logs),
      },
    );
    this.cleanups.push(() => admin.close());
    return admin;
  }

  /**
   * One bouncer as the operator runs it: a tenant DB (+ secret `{name}-db`), a real soju whose
   * admin socket is `<dir>/<name>/admin.sock`, and a pod labelled `irc.now/bouncer=<name>`.
   */
  async bouncer(name: string): Promise<ContractBouncer> {
    const postgresUrl = this.peers.postgresUrl as string;
    const databaseUrl = await createDatabase(postgresUrl, "soju");
    const soju = await startSoju({ databaseUrl, stateDir: join(this.dir, name) });
    this.cleanups.push(() => soju.stop());
    await this.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: `${name}-db` },
        stringData: { uri: databaseUrl },
      },
    });
    const db = createSojuDb(databaseUrl);
    this.cleanups.push(() => closeSojuDb(db));
    const bouncer = new RealBouncer(name, soju, db, this.core, this.kubeConfig);
    await bouncer.runPod();
    this.cleanups.push(() => bouncer.stopOperator());
    return bouncer;
  }
}

async function ignoreConflict(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

export class RealBouncer implements ContractBouncer {
  private deleted = 0;
  private created = 0;
  private chain: Promise<void> = Promise.resolve();
  private abort: AbortController | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly soju: RealSoju,
    readonly db: SojuDb,
    private readonly core: CoreV1Api,
    private readonly kubeConfig: KubeConfig,
  ) {}

  get restarts(): number {
    return this.deleted;
  }

  private async createPod(): Promise<void> {
    this.created += 1;
    await this.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: {
          generateName: `${this.name}-soju-`,
          labels: { "irc.now/bouncer": this.name },
        },
        spec: { containers: [{ name: "soju", image: "codeberg.org/emersion/soju:0.10.1" }] },
      },
    });
  }

  /**
   * Creates the pod and plays the Deployment: on each deletion, a new pod object first, then a
   * restart of the real soju (so a write that found no pod to delete is still loaded).
   */
  async runPod(): Promise<void> {
    await this.createPod();
    const selector = `irc.now/bouncer=${this.name}`;
    this.abort = await new Watch(this.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { labelSelector: selector },
      (type: string, pod: V1Pod) => {
        if (type !== "DELETED" || this.stopped) return;
        if (pod.metadata?.labels?.["irc.now/bouncer"] !== this.name) return;
        this.deleted += 1;
        this.chain = this.chain
          .then(() => this.createPod())
          .then(() => this.soju.restart())
          .catch((error: unknown) => {
            console.error(`bouncer ${this.name}: restart failed: ${String(error)}`);
          });
      },
      () => undefined,
    );
  }

  async stopOperator(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.chain;
  }

  /**
   * Resolves once every pod deletion so far has reached this Deployment's watch and its restart
   * is done: the watch delivers DELETED a moment after the adapter's delete returns, so awaiting
   * the restart chain alone could miss the last deletion (and `restarts` would move later).
   */
  async settled(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { items } = await this.core.listNamespacedPod({
        namespace: NS,
        labelSelector: `irc.now/bouncer=${this.name}`,
      });
      const live = items.filter((p) => !p.metadata?.deletionTimestamp).length;
      if (this.deleted === this.created - live) break;
      if (Date.now() > deadline) throw new Error(`bouncer ${this.name}: pod deletions not seen`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.chain;
  }

  user(username: string) {
    return sojuUserRow(this.db, username);
  }

  networks(username: string, name?: string) {
    return sojuNetworkRows(this.db, username, name);
  }
}
