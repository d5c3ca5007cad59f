import type { Logger } from "pino";
import { listenForOutbox } from "./keycloak-outbox/wake";

export interface WakeLoopOptions {
  /** A pass at least this often: due retries, missed notifications. */
  pollMs: number;
  /** With `channel`: a pass on every NOTIFY there (a dedicated, reconnecting LISTEN client). */
  databaseUrl?: string;
  channel?: string;
  log: Logger;
  /**
   * One pass. `stopping()` turns true once stop() was called, for passes that can end early;
   * answering `true` asks for the next pass at once (e.g. a full batch was handled).
   */
  pass: (stopping: () => boolean) => Promise<boolean | void>;
  /** A pass that failed as a whole (the DB is unreachable, say); the loop goes on. */
  onError: (error: unknown) => void;
  /** Called once the loop has stopped (e.g. to reset the leader's gauges). */
  onStopped?: () => void;
}

export interface WakeLoop {
  /** Run a pass now (or right after the current one). */
  wake(): void;
  /** Waits for the pass in progress; nothing runs after it resolves. */
  stop(): Promise<void>;
}

/**
 * The leader's job loops (Keycloak outbox, account deletions, suspensions, grace check): a pass
 * at start, on every wake-up and every `pollMs`, never two at once; a wake-up during a pass asks
 * for one more pass after it.
 */
export function wakeLoop(o: WakeLoopOptions): WakeLoop {
  let stopped = false;
  let pending = true; // the first pass runs at once
  let sleeping: (() => void) | undefined;
  const wake = () => {
    pending = true;
    sleeping?.();
  };
  const listener =
    o.databaseUrl && o.channel
      ? listenForOutbox({
          databaseUrl: o.databaseUrl,
          channel: o.channel,
          onWake: wake,
          log: o.log,
        })
      : undefined;
  async function loop(): Promise<void> {
    while (!stopped) {
      if (!pending) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, o.pollMs);
          sleeping = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        sleeping = undefined;
        if (stopped) break;
      }
      pending = false;
      try {
        if ((await o.pass(() => stopped)) === true) pending = true;
      } catch (error) {
        o.onError(error);
      }
    }
  }
  const running = loop();
  return {
    wake,
    async stop() {
      stopped = true;
      sleeping?.();
      await listener?.close();
      await running;
      o.onStopped?.();
    },
  };
}
