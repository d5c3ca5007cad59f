import { Counter, Gauge, type Registry } from "prom-client";
import type { SuspensionMetrics } from "./ports";

/** Suspensions and grace-period metrics (leader only; labels are actions and results, never a user). */
export function billingMetrics(registry: Registry): SuspensionMetrics & {
  graceEnded(count: number): void;
  reset(): void;
} {
  const registers = [registry];
  const suspended = new Gauge({
    name: "irc_now_suspended_bouncers",
    help: "Bouncers suspended (bouncers.suspended_at set), applied to soju or not.",
    registers,
  });
  const pending = new Gauge({
    name: "irc_now_suspensions_pending",
    help: "Bouncers whose soju user is not yet in the state their suspension asks for.",
    registers,
  });
  const applies = new Counter({
    name: "irc_now_suspension_applies_total",
    help: "soju user updates for suspensions, by action (disable, enable) and result (applied, superseded, failed).",
    labelNames: ["action", "result"] as const,
    registers,
  });
  const grace = new Counter({
    name: "irc_now_grace_periods_ended_total",
    help: "Users dropped to free by the grace-period check (past_due beyond PRO_GRACE_DAYS).",
    registers,
  });
  return {
    applied: (action, result) => applies.inc({ action, result }),
    counts(c) {
      suspended.set(c.suspended);
      pending.set(c.pending);
    },
    graceEnded: (count) => grace.inc(count),
    reset() {
      suspended.reset();
      pending.reset();
    },
  };
}
