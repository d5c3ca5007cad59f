import { Registry, collectDefaultMetrics } from "prom-client";

/** One registry per worker process: default Node metrics plus the worker's own (added by features). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
