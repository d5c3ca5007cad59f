import { wakeLoop, type WakeLoop } from "../wake-loop";
import type { DeletionDeps } from "./ports";
import { runDeletion } from "./steps";

/** Migration 0007's trigger notifies here (no payload) when a deletion is requested. */
export const DELETIONS_CHANNEL = "irc_now_account_deletions";

/**
 * One pass: runs every due deletion, one at a time, each as far as it goes. A job that fails or
 * waits is rescheduled in its row, so the pass moves on to the next due one.
 */
export async function advanceDeletions(deps: DeletionDeps, limit = 20): Promise<number> {
  let ran = 0;
  const seen = new Set<string>();
  while (ran < limit) {
    const job = await deps.store.nextDue();
    // the same job again means it is due at once (a zero retry): leave it for the next pass
    if (!job || seen.has(job.id)) break;
    seen.add(job.id);
    await runDeletion(deps, job);
    ran++;
  }
  deps.metrics?.stats(await deps.store.stats());
  return ran;
}

export interface DeletionJobOptions {
  deps: DeletionDeps;
  /** For the LISTEN connection; without it the job only polls. */
  databaseUrl?: string;
  /** Poll for due retries (and missed notifications) this often (2 000 ms). */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * The leader's deletion loop: a pass on every notification of a new request and every `pollMs`
 * for due retries; never two passes at once. Started and stopped with the leader's controller.
 */
export function startDeletionJob(options: DeletionJobOptions): WakeLoop {
  const { deps } = options;
  return wakeLoop({
    pollMs: options.pollMs ?? 2_000,
    databaseUrl: options.databaseUrl,
    channel: DELETIONS_CHANNEL,
    log: deps.log,
    pass: () => advanceDeletions(deps).then(() => undefined),
    onError:
      options.onError ??
      ((error: unknown) =>
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "account deletion pass failed",
        )),
  });
}
