import { and, eq, sql } from "drizzle-orm";
import { accounts, type AccountsDb } from "@irc-now/db";

export type SetupStep = (typeof accounts.setupStep.enumValues)[number];
export type UpstreamState = (typeof accounts.upstreamAuthState.enumValues)[number];

/** Records setup attempts and upstream-authentication states in the accounts DB. */
export interface SetupRecorder {
  start(bouncer: string): Promise<{ id: number; attemptNo: number }>;
  step(id: number, step: SetupStep): Promise<void>;
  finish(
    id: number,
    outcome: "succeeded" | "failed",
    step: SetupStep,
    error: string | null,
    durationMs: number,
  ): Promise<void>;
  upstreamState(
    bouncer: string,
    state: UpstreamState,
    account: string | null,
    detail: string | null,
  ): Promise<void>;
}

export function dbRecorder(db: AccountsDb, namespace: string): SetupRecorder {
  const a = accounts.bouncerSetupAttempts;
  return {
    async start(bouncer) {
      // attempt_no = previous + 1; one reconcile per bouncer at a time makes this race-free.
      const [row] = await db
        .insert(a)
        .values({
          namespace,
          bouncer,
          attemptNo: sql`(SELECT coalesce(max(${a.attemptNo}), 0) + 1 FROM ${a} WHERE ${a.namespace} = ${namespace} AND ${a.bouncer} = ${bouncer})`,
          stepReached: "read_secret",
        })
        .returning({ id: a.id, attemptNo: a.attemptNo });
      return row!;
    },
    async step(id, step) {
      await db.update(a).set({ stepReached: step }).where(eq(a.id, id));
    },
    async finish(id, outcome, step, error, durationMs) {
      await db
        .update(a)
        .set({ outcome, stepReached: step, error, finishedAt: sql`now()`, durationMs })
        .where(and(eq(a.id, id)));
    },
    async upstreamState(bouncer, state, account, detail) {
      const s = accounts.bouncerUpstreamStates;
      await db
        .insert(s)
        .values({ namespace, bouncer, state, account, detail, checkedAt: sql`now()` })
        .onConflictDoUpdate({
          target: [s.namespace, s.bouncer],
          set: { state, account, detail, checkedAt: sql`now()` },
        });
    },
  };
}
