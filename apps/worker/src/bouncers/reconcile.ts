import { isConfigured, isDeleting, isReady } from "@irc-now/k8s";
import type { HandlerResult } from "./queue";
import { runSetup, type SetupDeps, type SetupResult } from "./setup";

export type ReconcileDecision = "gone" | "deleting" | "not-ready" | "configured" | "setup";

/**
 * Reconcile one bouncer by name: always reads the current object (a queued key may be stale),
 * then runs setup only for a Ready bouncer without the annotation. An annotated bouncer is never
 * touched again: users own their soju state from then on.
 */
export async function reconcileBouncer(
  deps: SetupDeps,
  name: string,
): Promise<{ decision: ReconcileDecision; result?: SetupResult; next: HandlerResult }> {
  const bouncer = await deps.bouncers.get(name);
  if (!bouncer) return { decision: "gone", next: "done" };
  if (isDeleting(bouncer)) return { decision: "deleting", next: "done" };
  if (!isReady(bouncer)) return { decision: "not-ready", next: "done" }; // the Ready transition re-enqueues it
  if (isConfigured(bouncer)) return { decision: "configured", next: "done" };
  const result = await runSetup(deps, bouncer);
  // Failed after annotating (step 6 verification): the verifier keeps watching; do not redo setup.
  const next: HandlerResult =
    result.outcome === "succeeded" || result.configured ? "done" : "retry";
  return { decision: "setup", result, next };
}
