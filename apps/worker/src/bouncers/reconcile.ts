import { isConfigured, isDeleting, isReady, type SojuBouncer } from "@irc-now/k8s";
import type { HandlerResult } from "./queue";
import { startSetup, type Annotated, type SetupDeps, type SetupResult } from "./setup";

export type ReconcileDecision = "gone" | "deleting" | "not-ready" | "configured" | "setup";

/**
 * Whether a listed or watched bouncer can need a reconcile: being deleted or gone (its admin
 * connection is dropped), or Ready without the annotation (a setup). A bouncer that is not Ready
 * yet comes back with its Ready transition; an annotated one is never touched again. So the
 * operator's status writes and the annotation's own event cost no API read, and a re-list of
 * thousands of configured bouncers queues nothing. Reconcile still reads the object itself: the
 * event only says whether to look.
 */
export function needsReconcile(
  bouncer: SojuBouncer,
  type: "LIST" | "ADDED" | "MODIFIED" | "DELETED",
): boolean {
  return type === "DELETED" || isDeleting(bouncer) || (isReady(bouncer) && !isConfigured(bouncer));
}

/**
 * Reconcile one bouncer by name: always reads the current object (a queued key may be stale),
 * then runs setup only for a Ready bouncer without the annotation. An annotated bouncer is never
 * touched again: users own their soju state from then on.
 */
/**
 * Without `handOff`, a setup's step 6 runs here and `result` is the whole setup's. With it, the
 * step-6 continuation of an annotated setup is given to `handOff` (the controller's verify
 * stage) and reconcile returns once it was taken, without `result`: after the annotation there
 * is nothing left to retry (`nextAfter`), so the caller's slot is free for another bouncer.
 */
export async function reconcileBouncer(
  deps: SetupDeps,
  name: string,
  signal?: AbortSignal,
  handOff?: (verify: Annotated["verify"]) => Promise<void>,
): Promise<{ decision: ReconcileDecision; result?: SetupResult; next: HandlerResult }> {
  const bouncer = await deps.bouncers.get(name);
  if (!bouncer) {
    await deps.soju.release(name); // no admin connection outlives its bouncer
    return { decision: "gone", next: "done" };
  }
  if (isDeleting(bouncer)) {
    await deps.soju.release(name);
    return { decision: "deleting", next: "done" };
  }
  if (!isReady(bouncer)) return { decision: "not-ready", next: "done" }; // the Ready transition re-enqueues it
  if (isConfigured(bouncer)) return { decision: "configured", next: "done" };
  const first = await startSetup(deps, bouncer, signal);
  if (first.outcome === "annotated" && handOff) {
    await handOff(first.verify);
    return { decision: "setup", next: "done" };
  }
  const result = first.outcome === "annotated" ? await first.verify() : first;
  return { decision: "setup", result, next: nextAfter(result) };
}

/**
 * What the queue does after a setup: a failure before the annotation is retried with backoff; a
 * failure after it (step 6) is the verifier's to watch; a permanent failure is parked until an
 * admin acts (the retry or adopt action changes the CR, and the watch brings it back).
 */
export function nextAfter(result: SetupResult): HandlerResult {
  switch (result.outcome) {
    case "succeeded":
    case "needs_admin":
      return "done";
    case "busy":
      return "retry";
    case "failed":
      return result.configured ? "done" : "retry";
  }
}
