import { drainOutbox } from "./drain";
import type { OutboxDeps } from "./ports";
import { wakeLoop, type WakeLoop } from "../wake-loop";
import { OUTBOX_CHANNEL } from "./wake";

export interface OutboxDrainOptions {
  deps: OutboxDeps;
  /** For the LISTEN connection; without it the drain only polls. */
  databaseUrl?: string;
  /** Poll for due retries (and missed notifications) this often (5 000 ms). */
  pollMs?: number;
  /** Delete rows delivered longer ago than this (7 days)… */
  keepDeliveredMs?: number;
  /** …checking this often (1 h). */
  pruneEveryMs?: number;
  /** Called after a pass that failed as a whole (the DB is unreachable, say). */
  onError?: (error: unknown) => void;
  /** Called once the drain has stopped (e.g. to reset the leader's gauges). */
  onStopped?: () => void;
}

export type OutboxDrain = WakeLoop;

/**
 * The leader's drain loop: a pass on every wake-up (a notification from the outbox's insert
 * trigger) and every `pollMs` for due retries; never two passes at once. Started and stopped with
 * the leader's controller, like the import loop.
 */
export function startOutboxDrain(options: OutboxDrainOptions): OutboxDrain {
  const { deps } = options;
  const keepDeliveredMs = options.keepDeliveredMs ?? 7 * 86_400_000;
  const pruneEveryMs = options.pruneEveryMs ?? 3_600_000;
  let lastPrune = 0;
  return wakeLoop({
    pollMs: options.pollMs ?? 5_000,
    databaseUrl: options.databaseUrl,
    channel: OUTBOX_CHANNEL,
    log: deps.log,
    async pass(stopping) {
      const report = await drainOutbox(deps, stopping);
      const now = (deps.now ?? Date.now)();
      if (now - lastPrune >= pruneEveryMs) {
        lastPrune = now;
        const pruned = await deps.store.prune(keepDeliveredMs);
        if (pruned > 0) deps.log.info({ pruned }, "keycloak outbox: old delivered rows pruned");
      }
      return report.more; // a full batch: go on without waiting
    },
    onError:
      options.onError ??
      ((error: unknown) =>
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "keycloak outbox pass failed",
        )),
    onStopped: options.onStopped,
  });
}
