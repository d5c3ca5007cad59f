/**
 * CPU time of the processes under test, from /proc (Linux). Throughput on a shared, busy
 * machine is noisy; CPU milliseconds per request of each process are far steadier and say which
 * part costs what. Elsewhere than Linux every reading is null.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond =
        Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface Stat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** utime + stime, in clock ticks. */
  own: number;
  /** cutime + cstime: children that exited and were waited for. */
  children: number;
}

function parseStat(text: string): Stat | null {
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const end = text.lastIndexOf(")");
  if (end < 0) return null;
  const f = text.slice(end + 2).split(" ");
  // f[0] is field 3 (state); field n is f[n - 3].
  return {
    pid: Number(text.slice(0, text.indexOf(" "))),
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    own: Number(f[11]) + Number(f[12]),
    children: Number(f[13]) + Number(f[14]),
  };
}

function readStat(path: string): Stat | null {
  try {
    return parseStat(readFileSync(path, "utf8"));
  } catch {
    return null; // gone meanwhile, or not Linux
  }
}

function allProcesses(): Stat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => readStat(`/proc/${pid}/stat`) ?? []);
}

/** A process and all its descendants (live ones, plus the exited ones their parents reaped). */
function treeTicks(rootPid: number, all: Stat[]): number | null {
  const byParent = new Map<number, Stat[]>();
  for (const s of all) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s]);
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return null;
  let ticks = 0;
  const queue = [root];
  for (let s = queue.pop(); s; s = queue.pop()) {
    ticks += s.own + s.children;
    queue.push(...(byParent.get(s.pid) ?? []));
  }
  return ticks;
}

/** The pid of the first process whose argv matches (e.g. postgres with its port), or null. */
export function findPid(matches: (argv: string[]) => boolean): number | null {
  for (const s of allProcesses()) {
    try {
      if (matches(readFileSync(`/proc/${s.pid}/cmdline`, "utf8").split("\0"))) return s.pid;
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

export type CpuProbe = () => number | null;

/** CPU ms so far of a process tree. */
export const processTreeCpu =
  (pid: number): CpuProbe =>
  () => {
    const ticks = treeTicks(pid, allProcesses());
    return ticks === null ? null : (ticks * 1000) / clockTicks();
  };

/** CPU ms so far of this process's main thread only (not its worker threads, e.g. a load generator). */
export const mainThreadCpu: CpuProbe = () => {
  const s = readStat(`/proc/self/task/${process.pid}/stat`);
  return s ? (s.own * 1000) / clockTicks() : null;
};

/** Runs `fn` and returns its result with the CPU ms each probe's processes spent meanwhile. */
export async function withCpu<T>(
  probes: Record<string, CpuProbe>,
  fn: () => Promise<T>,
): Promise<{ result: T; cpuMs: Record<string, number | null> }> {
  const before = Object.fromEntries(Object.entries(probes).map(([name, probe]) => [name, probe()]));
  const result = await fn();
  const cpuMs = Object.fromEntries(
    Object.entries(probes).map(([name, probe]) => {
      const a = before[name];
      const b = probe();
      return [name, a === null || a === undefined || b === null ? null : b - a];
    }),
  );
  return { result, cpuMs };
}
