/**
 * Things a bench started, stopped in reverse order: on success, on failure, and on Ctrl-C /
 * SIGTERM (then the process exits with the signal's code).
 */
const STEP_TIMEOUT_MS = 10_000;

export class Cleanup {
  private readonly steps: { name: string; stop: () => Promise<void> }[] = [];
  private running: Promise<void> | undefined;

  constructor() {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        console.error(`\nbench: ${signal}, stopping…`);
        void this.run().finally(() =>
          process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1)),
        );
      });
    }
  }

  add(name: string, stop: () => Promise<void>): void {
    this.steps.push({ name, stop });
  }

  /** Stops everything added so far (once; later calls wait for the first). */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        // A stop must not hang the exit (e.g. a child that Ctrl-C already ended and nobody waits for).
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            console.error(
              `bench: stopping ${step.name} took over ${STEP_TIMEOUT_MS / 1000} s; going on`,
            );
            resolve();
          }, STEP_TIMEOUT_MS);
        });
        await Promise.race([
          step
            .stop()
            .catch((error: unknown) =>
              console.error(`bench: stopping ${step.name} failed:`, error),
            ),
          timeout,
        ]);
        clearTimeout(timer);
      }
    })();
    return this.running;
  }
}
