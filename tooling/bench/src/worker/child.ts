import { once } from "node:events";
import type { ChildProcess } from "node:child_process";

/**
 * Ends a forked helper of the bench: closes its IPC channel (each helper stops its stand-ins
 * and exits when the channel goes) and waits for it to exit, killing it after `graceMs`.
 */
export async function endChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}
