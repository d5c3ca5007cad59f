import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { TargetFigures } from "./load";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/** What every result file records about the machine, so noisy figures can be told apart. */
export function machine() {
  const list = cpus();
  return {
    node: process.version,
    cpus: list.length,
    cpuModel: list[0]?.model ?? "unknown",
    loadavg1m: round2(loadavg()[0] ?? 0),
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Where a run's figures go: `bench-results/<name>.json` at the repo root (git-ignored). The
 * committed `bench/results/` are deliberate snapshots: copy a run there on purpose.
 */
export const resultsPath = (name: string) => join(repoRoot, "bench-results", `${name}.json`);

/** Writes a run's figures (see resultsPath); returns the path relative to the root. */
export async function writeResults(name: string, results: unknown): Promise<string> {
  const path = resultsPath(name);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(results, null, 2) + "\n");
  return relative(repoRoot, path);
}

export function printTable(rows: Record<string, TargetFigures>): void {
  const cpuNames = [...new Set(Object.values(rows).flatMap((f) => Object.keys(f.cpuMsPerRequest)))];
  const header = [
    "target",
    "req/s",
    "p50 ms",
    "p99 ms",
    "avg ms",
    "requests",
    "errors",
    "non2xx",
    ...cpuNames.map((n) => `${n} cpu ms/req`),
  ];
  const body = Object.entries(rows).map(([name, f]) => [
    name,
    f.requestsPerSecond.toFixed(0),
    String(f.latencyP50Ms),
    String(f.latencyP99Ms),
    f.latencyAvgMs.toFixed(1),
    String(f.requests),
    String(f.errors + f.timeouts),
    String(f.non2xx),
    ...cpuNames.map((n) => f.cpuMsPerRequest[n]?.toFixed(2) ?? "-"),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const row of body) console.log(line(row));
}
