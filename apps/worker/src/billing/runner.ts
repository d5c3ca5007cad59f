import { wakeLoop, type WakeLoop } from "../wake-loop";
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
export function startSuspensionApplier(options: SuspensionApplierOptions): WakeLoop {
  const { deps } = options;
  const retries: RetryBook = new Map();
  return wakeLoop({
    pollMs: options.pollMs ?? 5_000,
    databaseUrl: options.databaseUrl,
    channel: BOUNCER_CHANGES_CHANNEL,
    log: deps.log,
    pass: () => applySuspensions(deps, retries).then(() => undefined),
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
}): WakeLoop {
  const { deps } = options;
  return wakeLoop({
    pollMs: options.intervalMs ?? 60_000,
    log: deps.log,
    pass: () => endExpiredGrace(deps).then(() => undefined),
    onError:
      options.onError ??
      ((error) =>
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "grace-period check failed",
        )),
  });
}
