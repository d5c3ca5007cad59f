import { listenForOutbox } from "../keycloak-outbox/wake";
import type { GraceDeps, SuspensionDeps } from "./ports";
import { endExpiredGrace } from "./grace";
import { applySuspensions, type RetryBook } from "./suspensions";

/**
 * Migration 0004's trigger notifies here on every change of a `bouncers` row — suspended_at
 * flips included (the web's webhook and delete paths, and the grace check, write them).
 */
export const BOUNCER_CHANGES_CHANNEL = "irc_now_bouncer_changes";

export interface SuspensionApplierOptions {
  deps: SuspensionDeps;
  /** For the LISTEN connection; without it the applier only polls. */
  databaseUrl?: string;
  /** A pass at least this often: due retries, missed notifications (5 000 ms). */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * The leader's suspension applier: a pass on every bouncer change and every `pollMs`, never two
 * at once. Notifications that arrive during a pass ask for one more pass after it.
 */
export function startSuspensionApplier(options: SuspensionApplierOptions): {
  wake(): void;
  stop(): Promise<void>;
} {
  const { deps } = options;
  const retries: RetryBook = new Map();
  return wakeLoop({
    pollMs: options.pollMs ?? 5_000,
    databaseUrl: options.databaseUrl,
    channel: BOUNCER_CHANGES_CHANNEL,
    log: deps.log,
    pass: () => applySuspensions(deps, retries),
    onError:
      options.onError ??
      ((error) =>
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "suspension pass failed",
        )),
  });
}

/** The leader's grace-period check: a pass every `intervalMs` (60 000 ms). */
export function startGraceCheck(options: {
  deps: GraceDeps;
  intervalMs?: number;
  onError?: (error: unknown) => void;
}): { wake(): void; stop(): Promise<void> } {
  const { deps } = options;
  return wakeLoop({
    pollMs: options.intervalMs ?? 60_000,
    log: deps.log,
    pass: () => endExpiredGrace(deps),
    onError:
      options.onError ??
      ((error) =>
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "grace-period check failed",
        )),
  });
}

function wakeLoop(o: {
  pollMs: number;
  databaseUrl?: string;
  channel?: string;
  log: SuspensionDeps["log"];
  pass: () => Promise<unknown>;
  onError: (error: unknown) => void;
}): { wake(): void; stop(): Promise<void> } {
  let stopped = false;
  let pending = true;
  let sleeping: (() => void) | undefined;
  const wake = () => {
    pending = true;
    sleeping?.();
  };
  const listener =
    o.databaseUrl && o.channel
      ? listenForOutbox({
          databaseUrl: o.databaseUrl,
          channel: o.channel,
          onWake: wake,
          log: o.log,
        })
      : undefined;
  async function loop(): Promise<void> {
    while (!stopped) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.pollMs);
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
        await o.pass();
      } catch (error) {
        o.onError(error);
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
    },
  };
}
