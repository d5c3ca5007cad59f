import type { OutboxMetrics } from "../keycloak-outbox/ports";
import type { WorkerMetrics } from "./worker-metrics";

/** The Keycloak outbox drain's reports as the worker's Prometheus metrics. */
export function outboxMetrics(m: WorkerMetrics): OutboxMetrics & { reset(): void } {
  return {
    pushed(result) {
      m.keycloakOutboxPushes.inc({ result });
    },
    pass(durationMs, stats) {
      m.keycloakOutboxPassDuration.observe(durationMs / 1000);
      m.keycloakOutboxPending.set(stats.pending);
      m.keycloakOutboxOldestAge.set(stats.oldestAgeS);
      m.keycloakOutboxHeld.set(stats.held);
    },
    /** A replica that stops leading stops reporting the outbox (the new leader does). */
    reset() {
      m.keycloakOutboxPending.set(0);
      m.keycloakOutboxOldestAge.set(0);
      m.keycloakOutboxHeld.set(0);
    },
  };
}
