import { ConfigError } from "@irc-now/config";
import { createAccountsDb, pingDb } from "@irc-now/db";
import { loadWorkerConfig } from "./env";
import { closeServer, startHealthServer } from "./http/server";
import { createLogger } from "./logger";
import { createMetricsRegistry } from "./metrics/registry";

// Wires env → clients → HTTP server; features (watcher, verifier, metric loops) plug in here.
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
  const db = createAccountsDb(config.DATABASE_URL, { max: 5, connectionTimeoutMillis: 2_000 });
  const registry = createMetricsRegistry();

  const server = await startHealthServer({
    port: config.WORKER_PORT,
    registry,
    readiness: async () => {
      const dbOk = await pingDb(db);
      return { ready: dbOk, checks: { db: dbOk } };
    },
  });
  log.info({ port: config.WORKER_PORT }, "worker listening (/healthz, /readyz, /metrics)");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    await closeServer(server);
    await db.$client.end().catch(() => undefined);
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
