import { Registry } from "prom-client";
import { Controller } from "../../src/bouncers/controller";
import { createWorkerMetrics } from "../../src/metrics/worker-metrics";
import type { Wiring } from "../../src/wiring";
import { NS } from "./harness";

/**
 * A leader's Controller over a wiring, with the loops quick enough for a test (verify every 2 s,
 * the attempt sweep every 1 s, retries from 200 ms up to 2 s) and no tenant-metrics sweep.
 */
export function quickController(w: Wiring): Controller {
  return new Controller({
    deps: w.deps,
    kubeConfig: w.kube.kubeConfig,
    namespace: NS,
    accountsDb: w.db,
    metrics: createWorkerMetrics(new Registry()),
    tenantUrls: w.tenantUrls,
    verifyIntervalMs: 2_000,
    usersIntervalMs: 1_000,
    tenantsIntervalMs: 600_000,
    retryBaseMs: 200,
    retryMaxMs: 2_000,
  });
}
