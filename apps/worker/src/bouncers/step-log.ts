import type { SetupRecorder, SetupStep } from "./attempts";

/** What an attempt's row could not take: the step whose record failed, and why. */
export interface RecordFailure {
  step: SetupStep;
  error: unknown;
}

/**
 * The step records of one attempt, written in order but off the setup's critical path: each
 * `step()` is queued behind the attempt's start and the steps before it (coalesced), so
 * `stepReached` only ever moves forward, and the setup does not wait a DB round trip before every step. The setup
 * must `settled()` before the annotation (an unrecordable step still fails it before anything
 * is annotated) and before writing the attempt's end (a late step record would move
 * `stepReached` back after it).
 */
export class StepLog {
  private chain: Promise<void>;
  private failure: RecordFailure | undefined;
  /** The latest step not yet handed to a write. */
  private pending: SetupStep | undefined;

  constructor(
    private readonly recorder: Pick<SetupRecorder, "step">,
    private readonly attempt: Promise<{ id: number }>,
  ) {
    this.chain = attempt.then(
      () => undefined,
      (error: unknown) => void (this.failure ??= { step: "read_secret", error }),
    );
  }

  /**
   * Queues the record of `step`; after a failure nothing more is written. Steps entered while
   * a record is being written are coalesced: only the latest is written next (`step_reached` is
   * one column, so the ones in between would be overwritten at once), which keeps a setup to a
   * few writes instead of one per step when the accounts DB is slow.
   */
  step(step: SetupStep): void {
    const queued = this.pending !== undefined;
    this.pending = step;
    if (queued) return; // the write queued already takes the latest step
    this.chain = this.chain.then(async () => {
      const next = this.pending!;
      this.pending = undefined;
      if (this.failure) return;
      try {
        await this.recorder.step((await this.attempt).id, next);
      } catch (error) {
        this.failure = { step: next, error };
      }
    });
  }

  /** The first record that failed so far, if any (known without waiting). */
  get failed(): RecordFailure | undefined {
    return this.failure;
  }

  /** Resolves (never rejects) when every queued record is written or has failed. */
  async settled(): Promise<RecordFailure | undefined> {
    await this.chain;
    return this.failure;
  }
}
