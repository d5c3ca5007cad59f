import type { BillingSettings } from "@irc-now/billing";
import type { SojuAdmin } from "@irc-now/soju";
import type { Logger } from "pino";

/**
 * A bouncer whose soju user is not in the state its projection row asks for: `suspended_at`
 * (desired, written by the web through packages/billing) against `soju_disabled` (what this
 * worker last applied; null, never touched, counts as enabled: soju creates users enabled).
 */
export interface PendingSuspension {
  namespace: string;
  name: string;
  /** The CR this row describes: a later CR of the same name must not inherit our write. */
  uid: string;
  sojuUsername: string;
  /** true: disable the soju user (suspended); false: enable it (resumed). */
  disable: boolean;
}

/** The `bouncers` projection as the suspension applier reads and writes it (store.ts). */
export interface SuspensionStore {
  /**
   * Up to `limit` rows of `namespace` to apply, oldest change first: only bouncers whose CR is
   * Ready and not being deleted (a soju that is not running cannot take the command; its
   * Ready transition rewrites the row, which wakes the applier).
   */
  pending(limit: number): Promise<PendingSuspension[]>;
  /**
   * Records that soju now has `disabled` for the row's CR (not for a later CR of the same name).
   * Returns whether the row still asks for that state; false when it flipped during the command
   * (it then differs from `soju_disabled` and stays pending for the next pass) or is gone.
   */
  recordApplied(row: PendingSuspension, disabled: boolean): Promise<boolean>;
  /** Suspended bouncers (desired) and rows not yet applied (Ready or not), for the gauges. */
  counts(): Promise<{ suspended: number; pending: number }>;
}

export type ApplyResult = "applied" | "superseded" | "failed";

export interface SuspensionMetrics {
  /** One apply of one bouncer: action disable|enable, never a name. */
  applied(action: "disable" | "enable", result: ApplyResult): void;
  counts(c: { suspended: number; pending: number }): void;
}

export interface SuspensionSettings {
  /** Bouncers applied at once (4). */
  concurrency: number;
  /** Rows read per pass (100). */
  batch: number;
  /** First retry of a failed apply after about this long (2 000 ms), doubling… */
  retryBaseMs: number;
  /** …up to this (300 000 ms). */
  retryCapMs: number;
}

export const defaultSuspensionSettings: SuspensionSettings = {
  concurrency: 4,
  batch: 100,
  retryBaseMs: 2_000,
  retryCapMs: 300_000,
};

export interface SuspensionDeps {
  store: SuspensionStore;
  soju: Pick<SojuAdmin, "setUserEnabled">;
  metrics?: SuspensionMetrics;
  log: Logger;
  settings: SuspensionSettings;
  /** [0, 1) for the backoff's jitter (Math.random). */
  random?: () => number;
  /** Milliseconds now (Date.now). */
  now?: () => number;
}

/** The grace-period check's ports (grace.ts). */
export interface GraceDeps {
  /** Users still on pro whose `past_due` grace ended at or before `now`. */
  expiredGrace(now: Date, graceDays: number): Promise<string[]>;
  /** Re-evaluates one user's plan in a transaction (packages/billing `reevaluatePlan`). */
  reevaluate(
    userId: string,
    now: Date,
  ): Promise<{ planBefore: string; planAfter: string; suspended: string[] } | null>;
  settings: BillingSettings;
  metrics?: { graceEnded(count: number): void };
  log: Logger;
  now?: () => Date;
}
