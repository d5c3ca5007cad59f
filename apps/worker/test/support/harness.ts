import { Writable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { sql } from "drizzle-orm";
import pg from "pg";
import { ergoCredentialSecretName } from "@irc-now/k8s";
import { accounts } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import { startOperator, type Operator, type OperatorOptions } from "@irc-now/standins/operator";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadWorkerConfig, type WorkerConfig } from "../../src/env";
import { createLogger } from "../../src/logger";
import { wire, type WireOptions, type Wiring } from "../../src/wiring";

export const NS = "irc-now";
export const CR = "sojubouncers.irc.now";

/** The worker's real wiring against the stand-ins and a real PostgreSQL. */
export interface Harness {
  kube: KubeStandin;
  /** Replaceable: tests may stop it and start another on the same port. */
  ergo: ErgoStandin;
  operator: Operator;
  config: WorkerConfig;
  env: Record<string, string>;
  w: Wiring;
  kubeConfig: KubeConfig;
  logs: string[];
  /** The accounts-DB user id of `username` (created on first use), as the portal would. */
  userId(username: string): Promise<string>;
  /** A SojuBouncer CR owned by `username`'s portal user, as the web app creates it. */
  createBouncer(name: string, username?: string): Promise<void>;
  readyOf(name: string): string | undefined;
  /** The user's ergo credential as its Secret `irc-now-ergo-{username}` holds it. */
  credential(username: string): string | undefined;
  /** The SASL PLAIN credentials a bouncer's soju stores for irc.now (its tenant DB). */
  storedSasl(name: string): Promise<{ user: string; password: string } | undefined>;
  annotations(name: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startHarness(
  postgresUrl: string,
  opts: {
    operator?: Partial<OperatorOptions>;
    env?: Record<string, string>;
    identity?: string;
    statementTimeoutMs?: number;
    wire?: WireOptions;
  } = {},
): Promise<Harness> {
  const databaseUrl = await createTestDatabase(postgresUrl, "worker");
  await migrateAccounts(databaseUrl);
  const kube = await startKubeStandin({ namespaces: [NS] });
  const dir = await mkdtemp(join(tmpdir(), "irc-now-worker-test-"));
  const kubeconfig = join(dir, "kubeconfig");
  await kube.writeKubeConfig(kubeconfig);
  const ergo = await startErgoStandin();
  const operator = startOperator({
    kube,
    postgresUrl,
    namespace: NS,
    adminSocketPath: join(dir, "soju", "{name}", "admin.sock"),
    readyDelayMs: 50,
    ...opts.operator,
  });
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    KUBECONFIG: kubeconfig,
    K8S_NAMESPACE: NS,
    ERGO_IRC_URL: ergo.ircUrl,
    ERGO_OPER_NAME: ergo.oper.name,
    ERGO_OPER_PASSWORD: ergo.oper.password,
    SOJU_ADMIN: "exec",
    SOJU_ADMIN_SOCKET: join(dir, "soju", "{name}", "admin.sock"),
    SOJU_UPSTREAM_ADDR: `irc+insecure://127.0.0.1:${ergo.ircPort}`,
    // No Keycloak here (port 9 refuses): tests of the outbox pass their stand-in's in opts.env.
    KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "unused-in-this-test",
    LOG_LEVEL: "debug",
    ...opts.env,
  };
  const config = loadWorkerConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const w = wire(config, createLogger("debug", "worker-test", sink), {
    identity: opts.identity ?? "test-worker",
    statementTimeoutMs: opts.statementTimeoutMs,
    ...opts.wire,
  });
  w.deps.settings.userWaitBaseMs = 100;
  w.deps.settings.verifyTimeoutMs = 15_000;
  w.deps.settings.verifyPollMs = 100;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  async function userId(username: string): Promise<string> {
    const [row] = await w.db
      .insert(accounts.users)
      .values({ keycloakSubject: `kc-${username}`, username })
      .onConflictDoUpdate({ target: accounts.users.username, set: { updatedAt: sql`now()` } })
      .returning({ id: accounts.users.id });
    return row!.id;
  }
  return {
    kube,
    ergo,
    operator,
    config,
    env,
    w,
    kubeConfig,
    logs,
    userId,
    async createBouncer(name, username = name) {
      const owner = await userId(username);
      kube.objects.create(CR, {
        apiVersion: "irc.now/v1alpha1",
        kind: "SojuBouncer",
        metadata: { name, namespace: NS, labels: { "irc.now/owner": owner } },
        spec: { username, plan: "free" },
      });
    },
    credential(username) {
      const secret = kube.objects.find("secrets", NS, ergoCredentialSecretName(username)) as
        { data?: Record<string, string> } | undefined;
      const b64 = secret?.data?.["password"];
      return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("utf8");
    },
    async storedSasl(name) {
      const client = new pg.Client({ connectionString: operator.get(name)!.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ user: string; password: string }>(
          `SELECT sasl_plain_username AS user, sasl_plain_password AS password FROM "Network" WHERE name = 'irc.now'`,
        );
        return rows[0];
      } finally {
        await client.end();
      }
    },
    readyOf(name) {
      const cr = kube.objects.find(CR, NS, name) as
        { status?: { conditions?: { type: string; status: string }[] } } | undefined;
      return cr?.status?.conditions?.find((c) => c.type === "Ready")?.status;
    },
    annotations(name) {
      return kube.objects.find(CR, NS, name)?.metadata.annotations ?? {};
    },
    async stop(this: Harness) {
      await w.close();
      await operator.stop();
      await this.ergo.stop();
      await kube.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
