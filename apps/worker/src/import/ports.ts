import type { accounts } from "@irc-now/db";

/** The import jobs as the worker sees them (accounts DB `import_jobs`, `import_items`). */
export type ImportJob = Pick<
  accounts.ImportJob,
  "id" | "userId" | "state" | "bouncer" | "createdAt" | "startedAt"
>;
export type ImportItem = Pick<
  accounts.ImportItem,
  "id" | "jobId" | "position" | "kind" | "network" | "channel" | "spec" | "sealed" | "state"
>;
export type ItemState = accounts.ImportItem["state"];

export interface ImportStore {
  /** Jobs to work on: queued, and running ones (resumed after a restart or a handover). */
  activeJobs(): Promise<ImportJob[]>;
  /** queued → running (stamps startedAt); returns the job as updated. */
  markRunning(jobId: string): Promise<ImportJob>;
  items(jobId: string): Promise<ImportItem[]>;
  /** Records an item's state; `eraseSealed` drops its sealed secrets in the same write. */
  setItem(
    itemId: string,
    state: ItemState,
    detail: string | null,
    eraseSealed?: boolean,
  ): Promise<void>;
  /** Ends the job: its state, an error for the user (or null), and every sealed secret erased. */
  finish(jobId: string, state: "succeeded" | "failed", error: string | null): Promise<void>;
}
