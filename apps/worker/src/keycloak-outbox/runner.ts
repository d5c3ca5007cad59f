import { drainOutbox } from "./drain";
import type { OutboxDeps } from "./ports";
import { listenForOutbox } from "./wake";

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

export interface OutboxDrain {
  /** Run a pass now (or right after the current one). */
  wake(): void;
  /** Waits for the pass in progress; nothing runs after it resolves. */
  stop(): Promise<void>;
}

/**
 * The leader's drain loop: a pass on every wake-up (a notification from the outbox's insert
 * trigger) and every `pollMs` for due retries; never two passes at once. Started and stopped with
 * the leader's controller, like the import loop.
 */
export function startOutboxDrain(options: OutboxDrainOptions): OutboxDrain {
  const { deps } = options;
  const pollMs = options.pollMs ?? 5_000;
  const keepDeliveredMs = options.keepDeliveredMs ?? 7 * 86_400_000;
  const pruneEveryMs = options.pruneEveryMs ?? 3_600_000;
  const onError =
    options.onError ??
    ((error: unknown) =>
      deps.log.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "keycloak outbox pass failed",
      ));
  let stopped = false;
  let pending = true; // the first pass runs at once
  let sleeping: (() => void) | undefined;
  let lastPrune = 0;

  const wake = () => {
    pending = true;
    sleeping?.();
  };

  const listener = options.databaseUrl
    ? listenForOutbox({ databaseUrl: options.databaseUrl, onWake: wake, log: deps.log })
    : undefined;

  async function loop(): Promise<void> {
    while (!stopped) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          sleeping = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        sleeping = undefined;
        if (stopped) break;
      }
      pending = false;
      try {
        const report = await drainOutbox(deps, () => stopped);
        if (report.more) pending = true; // a full batch: go on without waiting
        const now = (deps.now ?? Date.now)();
        if (now - lastPrune >= pruneEveryMs) {
          lastPrune = now;
          const pruned = await deps.store.prune(keepDeliveredMs);
          if (pruned > 0) deps.log.info({ pruned }, "keycloak outbox: old delivered rows pruned");
        }
      } catch (error) {
        onError(error);
      }
    }
  }

  const running = loop();
  return {
    wake,
    async stop() {
      stopped = true;
      sleeping?.();
      await listener?.close();
      await running;
      options.onStopped?.();
    },
  };
}
