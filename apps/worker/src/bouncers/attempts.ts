import { and, eq, lt, ne, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";
import type { SetupLocks } from "../ports/index";

export type SetupStep = (typeof accounts.setupStep.enumValues)[number];
export type UpstreamState = (typeof accounts.upstreamAuthState.enumValues)[number];
export type FinalOutcome = "succeeded" | "failed" | "needs_admin";

/** The CR a record belongs to: history is keyed by uid, the name is kept for display. */
export interface BouncerRef {
  uid: string;
  name: string;
}

/** Records setup attempts and upstream-authentication states in the accounts DB. */
export interface SetupRecorder {
  /**
   * A new attempt (the caller holds the bouncer's setup lock). Attempts of the same uid still
   * `running` are closed first: with the lock held, nothing can still be running them.
   */
  start(bouncer: BouncerRef): Promise<{ id: number; attemptNo: number }>;
  step(id: number, step: SetupStep): Promise<void>;
  finish(
    id: number,
    outcome: FinalOutcome,
    step: SetupStep,
    error: string | null,
    durationMs: number,
  ): Promise<void>;
  upstreamState(
    bouncer: BouncerRef,
    state: UpstreamState,
    account: string | null,
    detail: string | null,
  ): Promise<void>;
  /**
   * Writes the ends of attempts that could not be written when they happened (the accounts DB
   * was down): an attempt's real outcome is never lost, nor left `running`. Resolves with the
   * number still unwritten.
   */
  flush(): Promise<number>;
}

export const INTERRUPTED = "interrupted: the worker running this attempt stopped before it ended";

export function dbRecorder(db: AccountsDb, namespace: string, runner: string): SetupRecorder {
  const a = accounts.bouncerSetupAttempts;
  type End = {
    outcome: FinalOutcome;
    stepReached: SetupStep;
    error: string | null;
    durationMs: number;
    finishedAt: Date;
  };
  /** Ends not written yet, by attempt id (in memory: a crash leaves them to closeStaleAttempts). */
  const unwritten = new Map<number, End>();
  const writeEnd = async (id: number, end: End) => {
    // Also over an "interrupted" mark that closeStaleAttempts made meanwhile: this is the truth.
    await db.update(a).set(end).where(eq(a.id, id));
    unwritten.delete(id);
  };
  const flush = async () => {
    for (const [id, end] of [...unwritten]) await writeEnd(id, end).catch(() => undefined);
    return unwritten.size;
  };
  return {
    flush,
    async start(bouncer) {
      await flush();
      return db.transaction(async (tx) => {
        await tx
          .update(a)
          .set({ outcome: "failed", error: INTERRUPTED, finishedAt: sql`now()` })
          .where(and(eq(a.bouncerUid, bouncer.uid), eq(a.outcome, "running")));
        // attempt_no = previous + 1 per uid; the setup lock makes this race-free.
        const [row] = await tx
          .insert(a)
          .values({
            namespace,
            bouncer: bouncer.name,
            bouncerUid: bouncer.uid,
            runner,
            attemptNo: sql`(SELECT coalesce(max(${a.attemptNo}), 0) + 1 FROM ${a} WHERE ${a.bouncerUid} = ${bouncer.uid})`,
            stepReached: "read_secret",
          })
          .returning({ id: a.id, attemptNo: a.attemptNo });
        return row!;
      });
    },
    async step(id, step) {
      await db.update(a).set({ stepReached: step }).where(eq(a.id, id));
    },
    async finish(id, outcome, step, error, durationMs) {
      const end = { outcome, stepReached: step, error, durationMs, finishedAt: new Date() };
      unwritten.set(id, end);
      await writeEnd(id, end);
    },
    async upstreamState(bouncer, state, account, detail) {
      const s = accounts.bouncerUpstreamStates;
      const values = { bouncerUid: bouncer.uid, state, account, detail, checkedAt: sql`now()` };
      await db
        .insert(s)
        .values({ namespace, bouncer: bouncer.name, ...values })
        .onConflictDoUpdate({ target: [s.namespace, s.bouncer], set: values });
    },
  };
}

/**
 * Closes attempts left `running` by a worker that died mid-setup (run when a replica starts
 * leading). An attempt is stale only when its bouncer's setup lock is free: a replica that is
 * still draining holds it, and its attempt is left alone.
 */
export async function closeStaleAttempts(
  db: AccountsDb,
  locks: SetupLocks,
  olderThan: Date = new Date(),
): Promise<number> {
  const a = accounts.bouncerSetupAttempts;
  const running = await db
    .selectDistinct({ uid: a.bouncerUid })
    .from(a)
    .where(and(eq(a.outcome, "running"), lt(a.startedAt, olderThan)));
  let closed = 0;
  for (const { uid } of running) {
    if (uid === null) {
      // Rows from before attempts had uids: nothing can be running them any more.
      const rows = await db
        .update(a)
        .set({ outcome: "failed", error: INTERRUPTED, finishedAt: sql`now()` })
        .where(and(eq(a.outcome, "running"), sql`${a.bouncerUid} IS NULL`))
        .returning({ id: a.id });
      closed += rows.length;
      continue;
    }
    if (locks.held.has(uid)) continue; // a setup of this replica is running it
    const lock = await locks.tryAcquire(uid);
    if (!lock) continue;
    try {
      const rows = await db
        .update(a)
        .set({ outcome: "failed", error: INTERRUPTED, finishedAt: sql`now()` })
        .where(and(eq(a.bouncerUid, uid), eq(a.outcome, "running"), ne(a.stepReached, "done")))
        .returning({ id: a.id });
      closed += rows.length;
    } finally {
      await lock.release();
    }
  }
  return closed;
}
