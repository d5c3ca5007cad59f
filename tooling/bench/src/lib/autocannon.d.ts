// autocannon ships no types; this declares the part of its promise API the benches use.
declare module "autocannon" {
  interface Options {
    url: string;
    title?: string;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    pipelining?: number;
    /** Seconds before a request counts as a timeout. */
    timeout?: number;
    /** Worker threads generating the load (off the caller's event loop). */
    workers?: number;
    /** A sequence of requests each connection cycles through (plain data, so workers can run it). */
    requests?: Array<{
      method?: "GET" | "POST";
      path?: string;
      headers?: Record<string, string>;
      body?: string;
    }>;
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }

  interface Result {
    url: string;
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    "2xx": number;
    /** Milliseconds. */
    latency: Histogram;
    /** Requests per second (sampled each second); `total` is the completed requests. */
    requests: Histogram & { sent: number };
    /** Bytes per second. */
    throughput: Histogram;
  }

  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
