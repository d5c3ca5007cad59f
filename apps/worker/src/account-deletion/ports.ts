import type { accounts } from "@irc-now/db";
import type { SojuBouncer } from "@irc-now/k8s";
import type { KeycloakAdmin } from "@irc-now/keycloak";
import type { Logger } from "pino";

/** The steps in order (packages/db's `account_deletion_step`); `done` ends it. */
export type DeletionStep = (typeof accounts.accountDeletionStep.enumValues)[number];

/** An `account_deletions` row as the job reads it. */
export interface DeletionJob {
  id: string;
  userId: string;
  /** Cleared only by the last step: every earlier step can rely on them. */
  keycloakSubject: string | null;
  username: string | null;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  step: DeletionStep;
  attempts: number;
}

/** The SojuBouncers a user owns (packages/k8s BouncerApi, exact owner label). */
export interface OwnedBouncers {
  listByOwner(ownerId: string): Promise<{ items: SojuBouncer[] }>;
  deleteByOwner(ownerId: string): Promise<{ deleted: string[]; remaining: SojuBouncer[] }>;
}

/**
 * Billing's half of a deletion (billing.ts): `stripeBilling` when the worker has a Stripe key,
 * else `noBilling`; a deletion of a user without a subscription id passes either untouched.
 */
export interface BillingPort {
  /** Cancels the subscription at once; a subscription already cancelled or gone counts as done. */
  cancelSubscription(input: {
    customerId: string | null;
    subscriptionId: string | null;
  }): Promise<void>;
}

export interface DeletionStats {
  /** Deletions asked for and not finished. */
  pending: number;
  /** Of those, the ones whose last attempt failed. */
  failing: number;
  /** Age of the oldest pending request, 0 when there is none. */
  oldestAgeS: number;
}

/** The `account_deletions` table and the rows a deletion touches (store.ts). */
export interface DeletionStore {
  /** The due pending deletion that waited longest, or null. */
  nextDue(): Promise<DeletionJob | null>;
  /** Moves the job from `from` to `to` (only if it is still at `from`), clearing its error. */
  advance(id: string, from: DeletionStep, to: DeletionStep): Promise<void>;
  /**
   * Records why the current step is not done and runs it again `retryInMs` from now (DB clock);
   * `failure` false (a step still under way) leaves the attempt count, and so the backoff, alone.
   */
  fail(id: string, error: string, retryInMs: number, failure: boolean): Promise<void>;
  /** The ergo accounts the portal owns for this user (`ergo_accounts`). */
  ergoAccountsOwnedBy(userId: string): Promise<string[]>;
  /** The portal user owning `account` in `ergo_accounts`, or null. */
  ergoAccountOwner(account: string): Promise<string | null>;
  /** Deletes the setup history and upstream states of these bouncers (name + uid). */
  forgetBouncers(bouncers: readonly { name: string; uid: string }[]): Promise<void>;
  /**
   * The last step, in one transaction: audit rows anonymised, the user row deleted (its own rows
   * cascade), the job's identifying fields cleared and its step `done`.
   */
  deleteAccountRows(job: DeletionJob): Promise<void>;
  stats(): Promise<DeletionStats>;
}

export interface DeletionSettings {
  /** First retry after about this long (2 000 ms), doubling per failure… */
  retryBaseMs: number;
  /** …up to this (300 000 ms). */
  retryCapMs: number;
  /** While bouncers are still being removed, look again after this long (1 000 ms). */
  bouncersPollMs: number;
}

export const defaultDeletionSettings: DeletionSettings = {
  retryBaseMs: 2_000,
  retryCapMs: 300_000,
  bouncersPollMs: 1_000,
};

export interface DeletionMetrics {
  stepDone(step: DeletionStep): void;
  stepFailed(step: DeletionStep): void;
  stats(stats: DeletionStats): void;
}

export interface DeletionDeps {
  store: DeletionStore;
  namespace: string;
  bouncers: OwnedBouncers;
  ergo: {
    unregisterAccount(account: string): Promise<void>;
    checkCredentials(account: string, password: string): Promise<boolean>;
  };
  credentials: {
    read(username: string): Promise<string | null>;
    /** true when deleted, false when already gone. */
    delete(username: string): Promise<boolean>;
  };
  billing: BillingPort;
  keycloak: Pick<KeycloakAdmin, "deleteUser">;
  metrics?: DeletionMetrics;
  log: Logger;
  settings: DeletionSettings;
  /** [0, 1) for the backoff's jitter (Math.random). */
  random?: () => number;
}
