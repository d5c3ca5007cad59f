/**
 * Step 6 of setups (verify the upstream login), run beside the setup queue instead of in its
 * slots: step 6 mostly waits for soju to log in (the bench: ~135 ms of a ~300 ms setup during a
 * start-up migration), so holding a setup slot for it made every other bouncer wait too.
 * At most `concurrency` verifications run at once; a setup hands its continuation over with
 * `admit`, which resolves once the continuation has a place — while every place is taken the
 * setup keeps its queue slot, so the work in flight stays bounded.
 */
export class VerifyStage {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly concurrency: number,
    private readonly onError: (error: unknown) => void,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error("the verify stage needs a concurrency of at least 1");
  }

  /** Starts `run` as soon as a place is free; resolves when it has started. */
  async admit(run: () => Promise<void>): Promise<void> {
    while (this.running >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.running += 1;
    const task: Promise<void> = run()
      .catch(this.onError)
      .finally(() => {
        this.running -= 1;
        this.inFlight.delete(task);
        this.waiting.shift()?.();
      });
    this.inFlight.add(task);
  }

  get size(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Resolves when nothing runs here any more (including what was admitted meanwhile). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
