import type { VerifyLoopMetrics } from "../bouncers/verify-loop";
import type { WorkerMetrics } from "./worker-metrics";

/** The verify loop's reports as the worker's Prometheus metrics. */
export function verifyLoopMetrics(m: WorkerMetrics): VerifyLoopMetrics {
  return {
    check(durationMs, lagMs, timedOut) {
      m.verifierCheckDuration.observe(durationMs / 1000);
      m.verifierLag.observe(lagMs / 1000);
      if (timedOut) m.verifierTimeouts.inc();
    },
    window(report) {
      for (const [state, n] of Object.entries(report.counts))
        m.bouncersByUpstreamAuth.set({ state }, n);
      m.verifierWindowDuration.set(report.durationMs / 1000);
      m.verifierWindowOverrun.set(report.overrunMs / 1000);
      m.verifierWindowMaxLag.set(report.maxLagMs / 1000);
    },
  };
}
