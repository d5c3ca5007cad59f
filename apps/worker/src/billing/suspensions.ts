import { retryDelayMs } from "../keycloak-outbox/backoff";
import { errorText } from "../bouncers/secrets";
import type { ApplyResult, PendingSuspension, SuspensionDeps } from "./ports";

/** Failed applies waiting for their retry, by bouncer and desired state (in this process). */
export type RetryBook = Map<string, { failures: number; dueAt: number }>;

const keyOf = (row: PendingSuspension) =>
  `${row.namespace}/${row.name}/${row.uid}/${row.disable ? "disable" : "enable"}`;

/**
 * One pass of the suspension applier (leader only): every bouncer whose soju user is not in the
 * state its row asks for gets `user update <u> -enabled false|true` through SojuAdmin, a few at
 * a time, then its `soju_disabled` records what soju now has — a flip that landed meanwhile
 * differs from it, so it stays pending and the next pass (woken by the flip) applies it. A failure waits for its
 * backoff (kept in `retries`); others go on. Returns how many were applied.
 */
export async function applySuspensions(
  deps: SuspensionDeps,
  retries: RetryBook = new Map(),
): Promise<{ applied: number; failed: number; superseded: number }> {
  const now = deps.now ?? Date.now;
  const rows = await deps.store.pending(deps.settings.batch);
  // Entries of rows no longer pending (applied elsewhere, flipped back, deleted) are dropped.
  const live = new Set(rows.map(keyOf));
  for (const key of retries.keys()) if (!live.has(key)) retries.delete(key);
  const due = rows.filter((r) => (retries.get(keyOf(r))?.dueAt ?? 0) <= now());
  const tally = { applied: 0, failed: 0, superseded: 0 };

  const applyOne = async (row: PendingSuspension): Promise<ApplyResult> => {
    const action = row.disable ? "disable" : "enable";
    const key = keyOf(row);
    try {
      await deps.soju.setUserEnabled(row.name, row.sojuUsername, !row.disable);
    } catch (error) {
      const failures = (retries.get(key)?.failures ?? 0) + 1;
      const retryInMs = retryDelayMs(failures, deps.settings, deps.random);
      retries.set(key, { failures, dueAt: now() + retryInMs });
      deps.log.warn(
        { bouncer: row.name, action, failures, retryInMs, error: errorText(error) },
        "suspension: soju did not take the change; will retry",
      );
      return "failed";
    }
    retries.delete(key);
    let written: boolean;
    try {
      written = await deps.store.recordApplied(row, row.disable);
    } catch (error) {
      // soju has it; the row still says pending, so the next pass sends the same (idempotent)
      // command again and records it then.
      deps.log.warn(
        { bouncer: row.name, action, error: errorText(error) },
        "suspension: applied in soju but not recorded; the next pass repeats it",
      );
      return "failed";
    }
    if (!written) {
      // The row flipped during the command (or its CR is gone): the next pass applies the flip.
      deps.log.info({ bouncer: row.name, action }, "suspension: superseded while applying");
      return "superseded";
    }
    deps.log.info({ bouncer: row.name, action }, "suspension: soju user updated");
    return "applied";
  };

  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(deps.settings.concurrency, due.length) }, async () => {
      for (let i = next++; i < due.length; i = next++) {
        const row = due[i]!;
        const result = await applyOne(row);
        tally[result]++;
        deps.metrics?.applied(row.disable ? "disable" : "enable", result);
      }
    }),
  );
  deps.metrics?.counts(await deps.store.counts());
  return tally;
}
