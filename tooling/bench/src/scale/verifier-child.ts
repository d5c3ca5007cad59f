/**
 * The verifier alone, as its own process (so its CPU is its own, not the stand-ins'): wired from
 * the environment exactly as the worker is (wire()), it runs ONE verification window of
 * BENCH_VERIFY_INTERVAL_MS over every bouncer of K8S_NAMESPACE and prints one JSON line: the
 * window's report, its wall time and the process CPU time spent during it.
 */
import { performance } from "node:perf_hooks";
import { verifyLoopPorts } from "../../../../apps/worker/src/bouncers/verifier";
import { runVerifyWindow, systemClock } from "../../../../apps/worker/src/bouncers/verify-loop";
import { loadWorkerConfig } from "../../../../apps/worker/src/env";
import { createLogger } from "../../../../apps/worker/src/logger";
import { wire } from "../../../../apps/worker/src/wiring";

async function main(): Promise<void> {
  const intervalMs = Number(process.env.BENCH_VERIFY_INTERVAL_MS ?? 60_000);
  const concurrency = Number(process.env.BENCH_VERIFY_CONCURRENCY ?? 8);
  const config = loadWorkerConfig();
  const log = createLogger("warn");
  const w = wire(config, log);
  const deps = {
    bouncers: w.bouncers,
    ergo: w.deps.ergo,
    soju: w.deps.soju,
    recorder: w.deps.recorder,
    network: config.SOJU_UPSTREAM_NETWORK,
    log,
  };
  // Warm the clients (first connections, JIT) outside the measured window.
  await w.bouncers.list();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await runVerifyWindow(
    verifyLoopPorts(deps, systemClock),
    { intervalMs, concurrency },
    systemClock.now(),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(
    `${JSON.stringify({ report, wallMs, cpuMs, rssMB: process.memoryUsage().rss / 2 ** 20 })}\n`,
  );
  await w.close();
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
