import { KeycloakAdminError, keycloakUserState } from "@irc-now/keycloak";
import { retryDelayMs } from "./backoff";
import type { OutboxDeps, OutboxStats, PushResult } from "./ports";

/** `last_error` is for admins; keep it to a line. */
const MAX_ERROR_LENGTH = 500;

export interface PassReport {
  users: number;
  /** The batch was full: more users may be due now. */
  more: boolean;
  stats: OutboxStats;
}

/**
 * One pass of the Keycloak outbox (DESIGN.md §2 "Plans and Keycloak attributes"): the users with
 * due rows, oldest first, a few users at a time but each user's push alone, so per user the
 * pushes are strictly sequential. Passes never overlap (the runner waits for one to end), and
 * only the leader runs them: two pushes of one user at once could land in the wrong order.
 */
export async function drainOutbox(
  deps: OutboxDeps,
  /** Checked before each user: a stopping leader finishes its pushes in flight, starts none. */
  stopping: () => boolean = () => false,
): Promise<PassReport> {
  const now = deps.now ?? Date.now;
  const started = now();
  const users = await deps.store.dueUsers(deps.settings.batchSize);
  let next = 0;
  await Promise.all(
    Array.from(
      { length: Math.min(Math.max(1, deps.settings.concurrency), users.length) },
      async () => {
        for (let i = next++; i < users.length && !stopping(); i = next++) {
          await syncUser(deps, users[i]!).catch((error: unknown) =>
            // The DB failed around the push: the rows stay pending and come back next pass.
            deps.log.warn(
              { user: users[i], error: error instanceof Error ? error.message : String(error) },
              "keycloak outbox: could not record a push; retrying on a later pass",
            ),
          );
        }
      },
    ),
  );
  const stats = await deps.store.stats();
  deps.metrics.pass(now() - started, stats);
  return { users: users.length, more: users.length >= deps.settings.batchSize, stats };
}

/**
 * Pushes the user's state as it is NOW (never a snapshot from when a row was written), then
 * settles the rows that read saw. A later change has a later row that stays pending, so a slow
 * or retried push can never leave Keycloak behind the newest state.
 */
export function syncUser(deps: OutboxDeps, userId: string): Promise<PushResult | null> {
  // Under the user's Keycloak lock: an email change in the web waits for this push (and the
  // other way round), and the snapshot is read after any such change committed.
  return deps.store.withUserLock(userId, (store) => syncLocked({ ...deps, store }, userId));
}

async function syncLocked(deps: OutboxDeps, userId: string): Promise<PushResult | null> {
  const snap = await deps.store.snapshot(userId);
  if (!snap || snap.ids.length === 0) return null;
  if (snap.deleting) {
    // Account deletion removes the Keycloak user; pushing to it meanwhile would only fail.
    await deps.store.settle(snap.ids, "settled without a push: the account is being deleted");
    deps.metrics.pushed("skipped");
    return "skipped";
  }
  let failure: unknown;
  try {
    await deps.keycloak.pushUserState(snap.keycloakSubject, keycloakUserState(snap.state));
  } catch (error) {
    failure = error ?? new Error("push failed");
  }
  if (failure === undefined) {
    await deps.store.settle(snap.ids);
    deps.metrics.pushed("delivered");
    return "delivered";
  }
  const kind: PushResult = failure instanceof KeycloakAdminError ? failure.kind : "error";
  // Keycloak has no such user: retrying cannot help until someone fixes it (admin retry).
  const permanent = kind === "not_found";
  const failures = snap.maxAttempts + 1;
  const delay = permanent ? null : retryDelayMs(failures, deps.settings, deps.random);
  await deps.store.fail(snap.ids, describe(kind, failure), delay);
  deps.metrics.pushed(kind);
  deps.log.warn(
    { user: userId, kind, attempts: failures, retryInMs: delay },
    permanent
      ? "keycloak outbox: Keycloak has no such user; held for an admin"
      : "keycloak outbox: push failed; will retry",
  );
  return kind;
}

/**
 * KeycloakAdminError messages carry the status and Keycloak's words, never a secret or token
 * (packages/keycloak); anything else is named by its class only, as its text is not ours.
 */
function describe(kind: PushResult, error: unknown): string {
  const text =
    error instanceof KeycloakAdminError
      ? `${kind}: ${error.message}`
      : `error: ${error instanceof Error ? error.name : typeof error}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
