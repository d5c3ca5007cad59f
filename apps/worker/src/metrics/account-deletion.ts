import { Counter, Gauge, type Registry } from "prom-client";
import type { DeletionMetrics } from "../account-deletion/ports";

/** The leader's account-deletion metrics (labels carry step names only, never a user). */
export function accountDeletionMetrics(registry: Registry): DeletionMetrics & { reset(): void } {
  const registers = [registry];
  const pending = new Gauge({
    name: "irc_now_account_deletions_pending",
    help: "Account deletions requested and not finished.",
    registers,
  });
  const failing = new Gauge({
    name: "irc_now_account_deletions_failing",
    help: "Pending account deletions whose last attempt did not finish its step (see last_error).",
    registers,
  });
  const oldest = new Gauge({
    name: "irc_now_account_deletions_oldest_pending_age_seconds",
    help: "Age of the oldest pending account deletion (0 when none).",
    registers,
  });
  const steps = new Counter({
    name: "irc_now_account_deletion_steps_total",
    help: "Account deletion steps run, by step and result (done, failed).",
    labelNames: ["step", "result"] as const,
    registers,
  });
  return {
    stepDone: (step) => steps.inc({ step, result: "done" }),
    stepFailed: (step) => steps.inc({ step, result: "failed" }),
    stats(s) {
      pending.set(s.pending);
      failing.set(s.failing);
      oldest.set(s.oldestAgeS);
    },
    reset() {
      pending.reset();
      failing.reset();
      oldest.reset();
    },
  };
}
