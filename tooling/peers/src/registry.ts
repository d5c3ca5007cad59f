import { rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { kitStop, kitStopSync } from "./kit";

/**
 * Every peer this process started and has not stopped yet. The kit's servers run detached
 * (`setsid`): ending the test runner does not stop them. So besides each handle's `stop()`, this
 * process stops what is left on `exit` and on SIGINT/SIGTERM/SIGHUP (synchronously, through the
 * kit's own `stop`), and removes the state directories it created.
 */
interface Entry {
  script: string;
  stateDir: string;
  /** Remove stateDir after stopping (we created it). */
  owned: boolean;
}

const live = new Set<Entry>();
let hooked = false;

function stopAllSync(): void {
  for (const entry of [...live].reverse()) {
    live.delete(entry);
    kitStopSync(entry.script, entry.stateDir);
    if (entry.owned) rmSync(entry.stateDir, { recursive: true, force: true });
  }
}

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", stopAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      stopAllSync();
      // Re-raise only when nobody else handles the signal, so its default action still happens.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Tracks a started peer; returns its idempotent stop(). */
export function track(script: string, stateDir: string, owned: boolean): () => Promise<void> {
  installHooks();
  const entry: Entry = { script, stateDir, owned };
  live.add(entry);
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      try {
        await kitStop(script, stateDir);
      } finally {
        live.delete(entry);
        if (owned) await rm(stateDir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
}

/** How many peers this process has started and not stopped (for tests of the teardown). */
export function livePeers(): Array<{ script: string; stateDir: string }> {
  return [...live].map(({ script, stateDir }) => ({ script, stateDir }));
}
