/**
 * Test plumbing: the stand-ins (PostgreSQL, ergo, Kubernetes API, soju) wired like production
 * wires the real systems, one soju stand-in per bouncer, and a log capture.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { closeSojuDb, createSojuDb, sojuNetwork, sojuUser, type SojuDb } from "@irc-now/db/soju";
import { createTestDatabase } from "@irc-now/db/testing";
import { readTenantDbUrl } from "@irc-now/k8s";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import {
  podImageExecHandler,
  startKubeStandin,
  type ExecHandler,
  type KubeStandin,
} from "@irc-now/standins/kube";
import { startSojuStandin, type SojuStandin } from "@irc-now/standins/soju";
import { and, eq } from "drizzle-orm";
import { inject } from "vitest";
import {
  createSojuAdmin,
  type SojuAdmin,
  type SojuAdminConfig,
  type SojuLogger,
} from "../src/index";

export const NS = "irc-now";
export const CONFIG_PATH = "/etc/soju/config";

export type Mode = SojuAdminConfig["SOJU_ADMIN"];

/** Polls `probe` until it returns something other than undefined; throws after the deadline. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A pino-like logger that keeps every line (as JSON) for secret checks. */
export function captureLogger(lines: string[]): SojuLogger {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push(JSON.stringify({ level, ...obj, msg }));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/**
 * The exec handler of a soju pod: an image with a POSIX `sh` (the host's, run for real) and
 * `sojuctl` on its PATH, the latter reaching this soju stand-in. `seen` gets every argv sojuctl
 * was started with (argv[0] = `sojuctl`).
 */
export function sojuctlHandler(soju: SojuStandin, seen?: string[][]): ExecHandler {
  return podImageExecHandler({
    commands: {
      sojuctl: async (argv, io) => {
        seen?.push(argv);
        const result = await soju.runSojuctl(argv.slice(1));
        io.stdout.write(result.stdout);
        io.stderr.write(result.stderr);
        return result.exitCode;
      },
    },
  });
}

/** Shared stand-ins of one test file. */
export class World {
  dir!: string;
  ergo!: ErgoStandin;
  kube!: KubeStandin;
  kubeConfig!: KubeConfig;
  core!: CoreV1Api;
  private readonly cleanups: Array<() => Promise<unknown>> = [];

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), "irc-now-soju-"));
    this.ergo = await startErgoStandin();
    this.onCleanup(() => this.ergo.stop());
    this.kube = await startKubeStandin({ namespaces: [NS] });
    this.onCleanup(() => this.kube.stop());
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromString(this.kube.kubeConfigYaml());
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
  }

  get upstreamAddr(): string {
    return `irc+insecure://127.0.0.1:${this.ergo.ircPort}`;
  }

  /** The `irc.now` network of soju user `user` (nick and username the same), as the setup writes it. */
  ircNow(user: string) {
    return { name: "irc.now", addr: this.upstreamAddr, nick: user, username: user };
  }

  onCleanup(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup);
  }

  async stop(): Promise<void> {
    // Bounded, so a stuck cleanup cannot keep the temp dir (and the rest) from going away.
    for (const cleanup of this.cleanups.reverse()) {
      await Promise.race([
        cleanup().catch(() => undefined),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  /** `SOJU_ADMIN_SOCKET` of this world: one directory per bouncer. */
  get socketTemplate(): string {
    return join(this.dir, "{name}", "admin.sock");
  }

  config(mode: Mode): SojuAdminConfig {
    return {
      SOJU_ADMIN: mode,
      SOJU_ADMIN_SOCKET: this.socketTemplate,
      SOJU_POD_SELECTOR: "irc.now/bouncer={name}",
      SOJU_CONTAINER: "soju",
      SOJU_CONFIG_PATH: CONFIG_PATH,
      namespace: NS,
    };
  }

  admin(
    mode: Mode,
    logs: string[],
    extra: {
      commandTimeoutMs?: number;
      execOpenTimeoutMs?: number;
      socketIdleTimeoutMs?: number;
      kubeConfig?: KubeConfig;
    } = {},
  ): SojuAdmin {
    const admin = createSojuAdmin(this.config(mode), {
      kubeConfig: this.kubeConfig,
      core: this.core,
      tenantDbUrl: (bouncer) => readTenantDbUrl(this.core, NS, bouncer),
      logger: captureLogger(logs),
      ...extra,
    });
    this.onCleanup(() => admin.close());
    return admin;
  }

  /**
   * One bouncer as the operator would run it: a tenant DB (+ secret `{name}-db`), a soju stand-in
   * listening on the bouncer's admin socket, and a running pod whose `soju` container execs
   * sojuctl against it. Deleting the pod restarts soju and brings a new pod, like a Deployment.
   */
  async bouncer(name: string, options: { pod?: boolean } = {}): Promise<Bouncer> {
    const databaseUrl = await createTestDatabase(inject("postgresUrl"), "soju");
    const soju = await startSojuStandin({
      databaseUrl,
      adminSocketPath: this.socketTemplate.split("{name}").join(name),
      configPath: CONFIG_PATH,
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 500,
    });
    this.onCleanup(() => soju.stop());
    this.kube.objects.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-db`, namespace: NS },
      data: { uri: Buffer.from(databaseUrl).toString("base64") },
    });
    const db = createSojuDb(databaseUrl);
    this.onCleanup(() => closeSojuDb(db));
    const bouncer = new Bouncer(name, databaseUrl, soju, db, this.kube);
    if (options.pod !== false) {
      bouncer.runPod();
      this.onCleanup(() => bouncer.stopOperator());
    }
    return bouncer;
  }
}

export class Bouncer {
  /** Pods deleted so far (each one restarts soju; counted when the deletion is committed). */
  restarts = 0;
  readonly execArgv: string[][] = [];
  private unwatch: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly databaseUrl: string,
    readonly soju: SojuStandin,
    readonly db: SojuDb,
    private readonly kube: KubeStandin,
  ) {}

  private createPod(): void {
    this.kube.createPod({
      namespace: NS,
      generateName: `${this.name}-soju-`,
      labels: { "irc.now/bouncer": this.name },
      containers: ["soju"],
      exec: sojuctlHandler(this.soju, this.execArgv),
    });
  }

  /**
   * Creates the pod and plays the Deployment: a deleted pod is replaced by a new pod object at
   * once (before the API call that deleted it has even answered), and soju restarts — re-reading
   * its DB — after that, as a new container would.
   */
  runPod(): void {
    this.createPod();
    this.unwatch = this.kube.objects.watch((event) => {
      if (
        event.type !== "DELETED" ||
        event.object.metadata.labels?.["irc.now/bouncer"] !== this.name
      )
        return;
      this.restarts += 1;
      // Not inside the store's listener: right after it.
      queueMicrotask(() => this.createPod());
      this.chain = this.chain.then(() => this.soju.restart());
    }, "pods");
  }

  /** Stops replacing pods and waits for restarts already under way (before soju is stopped). */
  async stopOperator(): Promise<void> {
    this.unwatch?.();
    await this.chain.catch(() => undefined);
  }

  /** Waits until every pod deletion so far has been handled (soju restarted, pod back). */
  settled(): Promise<void> {
    return this.chain;
  }

  podNames(): string[] {
    return this.kube.objects
      .list("pods", NS, { labelSelector: `irc.now/bouncer=${this.name}` })
      .items.map((p) => p.metadata.name);
  }

  user(username: string) {
    return sojuUserRow(this.db, username);
  }

  networks(username: string, name?: string) {
    return sojuNetworkRows(this.db, username, name);
  }
}

/** A soju user's row in its tenant DB (what soju stored), or undefined. */
export async function sojuUserRow(db: SojuDb, username: string) {
  const [row] = await db.select().from(sojuUser).where(eq(sojuUser.username, username));
  return row;
}

/** A soju user's networks (one, by name, when given) as soju stored them. */
export async function sojuNetworkRows(db: SojuDb, username: string, name?: string) {
  const user = await sojuUserRow(db, username);
  if (!user) return [];
  const where =
    name === undefined
      ? eq(sojuNetwork.user, user.id)
      : and(eq(sojuNetwork.user, user.id), eq(sojuNetwork.name, name));
  return db.select().from(sojuNetwork).where(where);
}

/** Awaits a promise that must reject; returns the error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error("expected a rejection, but the call succeeded");
}
