import {
  BouncerApi,
  createKubeClients,
  deleteErgoCredential,
  ensureErgoCredential,
  readErgoCredential,
  readTenantDbUrl,
  type KubeClients,
} from "@irc-now/k8s";
import { createAccountsDb, type AccountsDb } from "@irc-now/db";
import { createErgoAdmin, type ErgoAdminOptions } from "@irc-now/ergo";
import { createKeycloakAdmin, type KeycloakAdmin } from "@irc-now/keycloak";
import { createSojuAdmin } from "@irc-now/soju";
import type { Logger } from "pino";
import { createStripeClient } from "@irc-now/billing";
import { noBilling, stripeBilling } from "./account-deletion/billing";
import { defaultDeletionSettings, type DeletionDeps } from "./account-deletion/ports";
import { dbDeletionStore } from "./account-deletion/store";
import { dbGracePorts } from "./billing/grace";
import { defaultSuspensionSettings, type GraceDeps, type SuspensionDeps } from "./billing/ports";
import { dbSuspensionStore } from "./billing/store";
import { dbRecorder } from "./bouncers/attempts";
import { pgSetupLocks } from "./bouncers/locks";
import { dbOwnership } from "./bouncers/ownership";
import { defaultSetupSettings, type SetupDeps } from "./bouncers/setup";
import type { WorkerConfig } from "./env";
import { defaultImportSettings, type ImportDeps } from "./import/run";
import { dbImportStore } from "./import/store";
import type { OutboxStore } from "./keycloak-outbox/ports";
import { dbOutboxStore } from "./keycloak-outbox/store";
import { tenantDbOpener } from "./ports/tenant-db";

export interface Wiring {
  db: AccountsDb;
  kube: KubeClients;
  bouncers: BouncerApi;
  deps: SetupDeps;
  /** The IRCCloud import jobs' ports (run by the leader). */
  importDeps: ImportDeps;
  /** The Keycloak outbox's table and the admin API it pushes to (drained by the leader). */
  outboxStore: OutboxStore;
  keycloak: KeycloakAdmin;
  /** Account deletions' ports (run by the leader; metrics added by main). */
  deletionDeps: DeletionDeps;
  /** Suspensions applied to soju and the grace-period check (leader only; metrics by main). */
  suspensionDeps: SuspensionDeps;
  graceDeps: GraceDeps;
  tenantUrls: () => Promise<Map<string, string | Error>>;
  close(): Promise<void>;
}

/** Concurrent `{name}-db` secret reads of the soju metrics sweep. */
const TENANT_URL_READS = 8;

export interface WireOptions {
  /** This replica's identity (recorded on every attempt it runs). */
  identity?: string;
  /** Statement deadline on the accounts DB and the setup locks (10 000 ms). */
  statementTimeoutMs?: number;
  /** Deadline of every Kubernetes API call but watches (packages/k8s default, 15 s). */
  kubeRequestTimeoutMs?: number;
  /** Deadlines of soju admin commands and of opening an exec session (packages/soju defaults). */
  sojuCommandTimeoutMs?: number;
  execOpenTimeoutMs?: number;
  /** ergo session timings (packages/ergo defaults: connect 15 s, reconnect 250 ms … 30 s). */
  ergo?: Pick<
    ErgoAdminOptions,
    "connectTimeoutMs" | "reconnectInitialDelayMs" | "reconnectMaxDelayMs"
  >;
}

/** env → real clients → the ports the reconcile logic sees. Shared by the worker and its CLI. */
export function wire(config: WorkerConfig, log: Logger, options: WireOptions = {}): Wiring {
  const { statementTimeoutMs } = options;
  const db = createAccountsDb(config.DATABASE_URL, {
    // 4 setups (each: its attempt's transaction, step records, ownership) and the 8 step-6
    // verifications beside them, plus the leader's loops: with 5, a setup's ownership claim
    // queued behind other setups' records (the bench's ergo step, ~9 ms of waiting).
    max: 10,
    connectionTimeoutMillis: 2_000,
    statementTimeoutMs,
  });
  const kube = createKubeClients({
    kubeconfigPath: config.KUBECONFIG,
    requestTimeoutMs: options.kubeRequestTimeoutMs,
  });
  const namespace = config.K8S_NAMESPACE;
  const bouncers = new BouncerApi(kube.objects, namespace);
  const ergo = createErgoAdmin(config, {
    logger: log.child({ component: "ergo" }),
    ...options.ergo,
  });
  const soju = createSojuAdmin(
    { ...config, namespace },
    {
      kubeConfig: kube.kubeConfig,
      core: kube.core,
      tenantDbUrl: (bouncer: string) => readTenantDbUrl(kube.core, namespace, bouncer),
      logger: log.child({ component: "soju" }),
      commandTimeoutMs: options.sojuCommandTimeoutMs,
      execOpenTimeoutMs: options.execOpenTimeoutMs,
    },
  );
  const locks = pgSetupLocks({
    databaseUrl: config.DATABASE_URL,
    connectTimeoutMs: 2_000,
    statementTimeoutMs,
  });
  const deps: SetupDeps = {
    bouncers,
    openTenantDb: tenantDbOpener(kube.core, namespace),
    ergo,
    soju,
    credentials: {
      read: (username) => readErgoCredential(kube.core, namespace, username),
      ensure: (username, candidate) =>
        ensureErgoCredential(kube.core, namespace, username, candidate),
    },
    ownership: dbOwnership(db),
    locks,
    recorder: dbRecorder(db, namespace, options.identity ?? "worker-cli"),
    settings: {
      ...defaultSetupSettings,
      upstreamAddr: config.SOJU_UPSTREAM_ADDR,
      upstreamNetwork: config.SOJU_UPSTREAM_NETWORK,
      adminNick: config.ERGO_ADMIN_NICK,
    },
    log,
  };
  const tenantUrls = async () => {
    const names = (await bouncers.list()).items.map((b) => b.metadata.name);
    const out = new Map<string, string | Error>();
    // A few secret reads at a time: one request per bouncer all at once is a burst on the
    // apiserver and, with thousands of bouncers, hundreds of MB in this process (bench: 10,000).
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(TENANT_URL_READS, names.length) }, async () => {
        for (let i = next++; i < names.length; i = next++) {
          const name = names[i]!;
          out.set(
            name,
            await readTenantDbUrl(kube.core, namespace, name).catch((e: unknown) =>
              e instanceof Error ? e : new Error(String(e)),
            ),
          );
        }
      }),
    );
    return out;
  };
  const importDeps: ImportDeps = {
    store: dbImportStore(db),
    bouncers,
    soju,
    secretKey: config.IMPORT_SECRET_KEY,
    log: log.child({ component: "import" }),
    settings: defaultImportSettings,
  };
  const keycloak = createKeycloakAdmin({
    issuer: config.KEYCLOAK_ISSUER,
    clientId: config.KEYCLOAK_ADMIN_CLIENT_ID,
    clientSecret: config.KEYCLOAK_ADMIN_CLIENT_SECRET,
  });
  const deletionDeps: DeletionDeps = {
    store: dbDeletionStore(db, namespace),
    namespace,
    bouncers,
    ergo,
    credentials: {
      read: (username) => readErgoCredential(kube.core, namespace, username),
      delete: (username) => deleteErgoCredential(kube.core, namespace, username),
    },
    // Without a Stripe key the worker still runs; a user with a subscription then waits at
    // the subscription step (noBilling's last_error says why).
    billing: config.STRIPE_SECRET_KEY
      ? stripeBilling(
          createStripeClient({
            secretKey: config.STRIPE_SECRET_KEY,
            ...(config.STRIPE_API_URL ? { apiUrl: config.STRIPE_API_URL } : {}),
          }),
        )
      : noBilling,
    keycloak,
    log: log.child({ component: "account-deletion" }),
    settings: defaultDeletionSettings,
  };
  const suspensionDeps: SuspensionDeps = {
    store: dbSuspensionStore(db, namespace),
    soju,
    log: log.child({ component: "suspensions" }),
    settings: defaultSuspensionSettings,
  };
  const graceDeps: GraceDeps = {
    ...dbGracePorts(db, {
      graceDays: config.PRO_GRACE_DAYS,
      quotaFree: config.PLAN_QUOTA_FREE,
      quotaPro: config.PLAN_QUOTA_PRO,
    }),
    log: log.child({ component: "grace-check" }),
  };
  return {
    db,
    kube,
    bouncers,
    deps,
    importDeps,
    outboxStore: dbOutboxStore(db),
    keycloak,
    deletionDeps,
    suspensionDeps,
    graceDeps,
    tenantUrls,
    async close() {
      await ergo.close().catch(() => undefined);
      await soju.close().catch(() => undefined);
      await locks.close();
      await db.$client.end().catch(() => undefined);
    },
  };
}
