import { ConfigError } from "@irc-now/config";
import { pingDb } from "@irc-now/db";
import { accountDeletionMetrics } from "./metrics/account-deletion";
import { startDeletionJob } from "./account-deletion/run";
import { billingMetrics } from "./billing/metrics";
import { startGraceCheck, startSuspensionApplier } from "./billing/runner";
import { Controller } from "./bouncers/controller";
import { startBouncerProjection } from "./bouncers/projection";
import { loadWorkerConfig, replicaIdentity } from "./env";
import { closeServer, startHealthServer } from "./http/server";
import { LeaderElector } from "./leader/lease";
import { advanceImports } from "./import/run";
import { defaultOutboxSettings } from "./keycloak-outbox/ports";
import { startOutboxDrain, type OutboxDrain } from "./keycloak-outbox/runner";
import { createLogger } from "./logger";
import { every } from "./loops";
import { createMetricsRegistry } from "./metrics/registry";
import { outboxMetrics } from "./metrics/outbox-metrics";
import { createWorkerMetrics } from "./metrics/worker-metrics";
import { dbBouncerProjection } from "./ports/bouncer-projection";
import { wire } from "./wiring";

// Wires env → clients → controllers (leader only) + HTTP server, and shuts down cleanly.
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  const registry = createMetricsRegistry();
  const metrics = createWorkerMetrics(registry);
  const identity = replicaIdentity();
  const w = wire(config, log, { identity });

  let controller: Controller | undefined;
  // IRCCloud import jobs: leader only, one pass at a time (loops.every never overlaps itself).
  let imports: { stop: () => Promise<void> } | undefined;
  // The Keycloak outbox: leader only (per user, pushes must not race another replica's).
  let outbox: OutboxDrain | undefined;
  const outboxReports = outboxMetrics(metrics);
  // Account deletions: leader only, one deletion at a time.
  let deletions: { stop: () => Promise<void> } | undefined;
  const deletionReports = accountDeletionMetrics(registry);
  // Billing: suspensions applied to soju and the grace-period check, leader only.
  let suspensions: { stop: () => Promise<void> } | undefined;
  let grace: { stop: () => Promise<void> } | undefined;
  const billingReports = billingMetrics(registry);
  const startController = () => {
    suspensions = startSuspensionApplier({
      deps: { ...w.suspensionDeps, metrics: billingReports },
      databaseUrl: config.DATABASE_URL,
    });
    grace = startGraceCheck({ deps: { ...w.graceDeps, metrics: billingReports } });
    deletions = startDeletionJob({
      deps: { ...w.deletionDeps, metrics: deletionReports },
      databaseUrl: config.DATABASE_URL,
    });
    outbox = startOutboxDrain({
      deps: {
        store: w.outboxStore,
        keycloak: w.keycloak,
        metrics: outboxReports,
        log: log.child({ component: "keycloak-outbox" }),
        settings: defaultOutboxSettings,
      },
      databaseUrl: config.DATABASE_URL,
      onStopped: () => outboxReports.reset(),
    });
    imports = every(
      1_000,
      () => advanceImports(w.importDeps),
      (error) =>
        log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "import pass failed",
        ),
    );
    controller = new Controller({
      deps: w.deps,
      kubeConfig: w.kube.kubeConfig,
      namespace: config.K8S_NAMESPACE,
      accountsDb: w.db,
      metrics,
      tenantUrls: w.tenantUrls,
      verifyIntervalMs: config.VERIFY_INTERVAL_S * 1000,
    });
    controller.start();
    metrics.leader.set(1);
  };
  const stopController = async () => {
    metrics.leader.set(0);
    await imports?.stop();
    imports = undefined;
    await outbox?.stop();
    outbox = undefined;
    await deletions?.stop();
    deletions = undefined;
    deletionReports.reset();
    await grace?.stop();
    grace = undefined;
    await suspensions?.stop();
    suspensions = undefined;
    billingReports.reset();
    const c = controller;
    controller = undefined;
    await c?.stop();
  };

  const elector = config.LEADER_ELECTION
    ? new LeaderElector({
        coordination: w.kube.coordination,
        namespace: config.K8S_NAMESPACE,
        name: config.LEASE_NAME,
        identity,
        onStartedLeading: startController,
        onStoppedLeading: stopController,
        log: log.child({ component: "leader" }),
      })
    : undefined;

  const server = await startHealthServer({
    port: config.WORKER_PORT,
    host: config.WORKER_HOST,
    registry,
    readiness: async () => {
      const dbOk = await pingDb(w.db);
      const leading = controller !== undefined;
      // A standby is ready (it can take over); a leader is ready once its first list succeeded.
      const synced = !leading || controller!.watcher.synced;
      return {
        ready: dbOk && synced,
        checks: {
          db: dbOk,
          leader: elector ? (elector.holder ?? "none") : identity,
          isLeader: leading,
          identity,
          synced,
        },
      };
    },
  });
  log.info(
    {
      host: config.WORKER_HOST,
      port: config.WORKER_PORT,
      identity,
      leaderElection: config.LEADER_ELECTION,
    },
    "worker listening (/healthz, /readyz, /metrics)",
  );

  if (elector) elector.start();
  else startController();
  // Every replica, leader or not, keeps the accounts DB's bouncers projection fresh (why:
  // bouncers/projection.ts).
  const projection = startBouncerProjection({
    store: dbBouncerProjection(w.db),
    namespace: config.K8S_NAMESPACE,
    list: () => w.bouncers.list(),
    kubeConfig: w.kube.kubeConfig,
    log: log.child({ component: "projection" }),
    replica: identity,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took longer than 15 s; exiting");
      process.exit(1);
    }, 15_000);
    force.unref();
    // Cancel and drain in-flight setups first (the elector runs onStoppedLeading and keeps the
    // lease meanwhile), and only then release the lease, so a standby never starts a setup
    // that this replica is still running.
    if (elector) await elector.stop();
    else await stopController();
    await projection.stop();
    await closeServer(server);
    await w.close();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error("worker failed to start:", error instanceof Error ? error.message : error);
  process.exit(1);
});
