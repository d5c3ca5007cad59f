import type { KeycloakAdmin, KeycloakErrorKind, PortalUserState } from "@irc-now/keycloak";
import type { Logger } from "pino";

/**
 * What one read of a user sees, in ONE snapshot (one statement): their row as it is now and the
 * ids of their pending outbox rows. Pushing this state settles exactly these rows; a change
 * committed after the read has its own row, which stays pending for the next push.
 */
export interface OutboxUserSnapshot {
  userId: string;
  /** The Keycloak user id (`users.keycloak_subject`). */
  keycloakSubject: string;
  state: PortalUserState;
  /** Pending (undelivered) rows of the user in this snapshot, ascending. */
  ids: number[];
  /** The most failed pushes any of these rows has seen (drives the backoff). */
  maxAttempts: number;
  /** The user asked for their account to be deleted: nothing is pushed any more. */
  deleting: boolean;
}

export interface OutboxStats {
  /** Undelivered rows, those waiting for an admin included. */
  pending: number;
  /** Age of the oldest undelivered row, 0 when there is none. */
  oldestAgeS: number;
  /** Rows given up on (Keycloak has no such user): only an admin retry moves them. */
  held: number;
}

/** The `keycloak_outbox` table as the drain sees it (apps/worker/src/keycloak-outbox/store.ts). */
export interface OutboxStore {
  /** Users with at least one due pending row, the one with the oldest such row first. */
  dueUsers(limit: number): Promise<string[]>;
  /** null when the user row is gone (its outbox rows went with it) or nothing is pending. */
  snapshot(userId: string): Promise<OutboxUserSnapshot | null>;
  /** Marks these rows delivered (`note`: why, when settled without a push). */
  settle(ids: readonly number[], note?: string): Promise<void>;
  /**
   * Records a failed push on these rows: one more attempt, the error, and the next attempt
   * `retryInMs` from now on the DB's clock, or never (`null`: held for an admin).
   */
  fail(ids: readonly number[], error: string, retryInMs: number | null): Promise<void>;
  /**
   * Runs `fn` in one transaction holding the user's Keycloak lock (`lockKeycloakUser`), with a
   * store bound to that transaction: the web's email change and this push never overlap.
   */
  withUserLock<T>(userId: string, fn: (store: OutboxStore) => Promise<T>): Promise<T>;
  /** Deletes rows delivered more than `olderThanMs` ago; returns how many. */
  prune(olderThanMs: number): Promise<number>;
  stats(): Promise<OutboxStats>;
}

/** How a push ended, as the metric's `result` label (never a user name). */
export type PushResult = "delivered" | "skipped" | KeycloakErrorKind | "error";

export interface OutboxMetrics {
  pushed(result: PushResult): void;
  pass(durationMs: number, stats: OutboxStats): void;
}

export interface OutboxSettings {
  /** Users picked per pass (100). */
  batchSize: number;
  /** Users pushed at once; one user's rows are always pushed one push at a time (4). */
  concurrency: number;
  /** First retry after about this long (2 000 ms), doubling per failure… */
  retryBaseMs: number;
  /** …up to this (300 000 ms). */
  retryCapMs: number;
}

export const defaultOutboxSettings: OutboxSettings = {
  batchSize: 100,
  concurrency: 4,
  retryBaseMs: 2_000,
  retryCapMs: 300_000,
};

export interface OutboxDeps {
  store: OutboxStore;
  keycloak: Pick<KeycloakAdmin, "pushUserState">;
  metrics: OutboxMetrics;
  log: Logger;
  settings: OutboxSettings;
  /** [0, 1) for the backoff's jitter (Math.random). */
  random?: () => number;
  now?: () => number;
}
