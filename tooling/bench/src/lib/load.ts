import autocannon from "autocannon";
import { withCpu, type CpuProbe } from "./cpu";

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export interface LoadTarget {
  /** Short name in the table and the JSON, e.g. `static`, `bouncer.mine`. */
  name: string;
  baseUrl: string;
  path: string;
  headers?: Record<string, string>;
}

export interface TargetFigures {
  path: string;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU ms per completed request of each probed process (null where it cannot be read). */
  cpuMsPerRequest: Record<string, number | null>;
}

/** Reads numbers from an environment variable (a positive integer) or uses the default. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

function fire(target: LoadTarget, connections: number, seconds: number) {
  return autocannon({
    url: target.baseUrl + target.path,
    title: target.name,
    headers: target.headers ?? {},
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    // The load generator runs on its own thread: the caller's event loop may serve a stand-in.
    workers: 1,
  });
}

/**
 * Warm-up (results dropped), then the measured run, with the same settings for every target;
 * `probes` read the CPU time of the processes involved around the measured run.
 */
export async function measure(
  target: LoadTarget,
  settings: LoadSettings,
  probes: Record<string, CpuProbe> = {},
): Promise<TargetFigures> {
  if (settings.warmupSeconds > 0) await fire(target, settings.connections, settings.warmupSeconds);
  const { result: r, cpuMs } = await withCpu(probes, () =>
    fire(target, settings.connections, settings.durationSeconds),
  );
  const done = Math.max(1, r.requests.total);
  return {
    path: target.path,
    requestsPerSecond: round(r.requests.average),
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyAvgMs: round(r.latency.average),
    latencyMaxMs: r.latency.max,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    cpuMsPerRequest: Object.fromEntries(
      Object.entries(cpuMs).map(([name, ms]) => [name, ms === null ? null : round(ms / done, 3)]),
    ),
  };
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
