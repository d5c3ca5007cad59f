import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/testing/index";

const here = fileURLToPath(new URL(".", import.meta.url));
const fixtures = join(here, "fixtures", "ctrl-c");

/** Alive and not a zombie (pid 1 in a container may never reap orphans). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const postmasterPid = (dir: string) =>
  Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);

/** A private TMPDIR per test, with /tmp's permissions (postgres runs as `postgres` under root). */
function privateTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "irc-now-db-test-"));
  chmodSync(dir, 0o1777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Files our helpers left in a TMPDIR (Vitest and tsx keep caches of their own there). */
const ours = (dir: string) => readdirSync(dir).filter((f) => /^(irc-now-|pg-password-)/.test(f));

interface Program {
  pid: number;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawned in its own process group, so the test can signal the group as a terminal does. */
function spawnGroup(args: string[], env: Record<string, string>): Program {
  const child = spawn(process.execPath, args, {
    cwd: join(here, ".."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
  return { pid: child.pid!, output: () => output, exited };
}

/** What a terminal does on Ctrl-C: SIGINT to every process of the foreground group. */
async function ctrlC(
  program: Program,
): Promise<{ ms: number; code: number | null; signal: string | null }> {
  const started = Date.now();
  process.kill(-program.pid, "SIGINT");
  const { code, signal } = await program.exited;
  return { ms: Date.now() - started, code, signal };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("embedded PostgreSQL", () => {
  it("stop() returns at once and removes the data when postgres has already exited", async () => {
    const server = await startEmbeddedPostgres({ handleSignals: false });
    const pid = postmasterPid(server.dir);
    // What a terminal's Ctrl-C did to postgres when it shared its owner's process group.
    process.kill(pid, "SIGINT");
    expect(await until(() => !alive(pid), 5_000)).toBe(true);
    const started = Date.now();
    await server.stop(); // waited forever for an `exit` event that had already been emitted
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(existsSync(server.dir)).toBe(false);
    await server.stop(); // idempotent
  });

  it("stop() is bounded even when postgres ignores the fast shutdown", async () => {
    const server = await startEmbeddedPostgres({ handleSignals: false, shutdownTimeoutMs: 500 });
    const pid = postmasterPid(server.dir);
    // A stopped (SIGSTOP) postmaster acts on no signal but SIGKILL.
    process.kill(pid, "SIGSTOP");
    const started = Date.now();
    await server.stop();
    // 500 ms for SIGINT, 500 ms for SIGQUIT, then SIGKILL to its process group.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await until(() => !alive(pid), 2_000)).toBe(true);
    expect(existsSync(server.dir)).toBe(false);
  });

  it("a terminal's Ctrl-C does not reach postgres: its owner stops it after its own clients", async () => {
    const tmp = privateTmp();
    const program = spawnGroup(["--import", "tsx", join(fixtures, "hold-program.ts")], {
      TMPDIR: tmp,
      HOLD_MODE: "orchestrated",
    });
    expect(await until(() => /pid \d+/.test(program.output()), 60_000)).toBe(true);
    const dir = /dir (\S+)/.exec(program.output())![1]!;
    const pid = Number(/pid (\d+)/.exec(program.output())![1]);

    const { ms, code } = await ctrlC(program);
    expect(program.output()).toContain("postgres still up at SIGINT");
    expect(program.output()).toContain("stopped");
    expect(code).toBe(0);
    expect(ms).toBeLessThan(3_000);
    expect(existsSync(dir)).toBe(false);
    expect(alive(pid)).toBe(false);
    expect(ours(tmp)).toEqual([]);
  });

  it("with its default signal handling, Ctrl-C stops postgres, removes the data and re-raises", async () => {
    const tmp = privateTmp();
    const program = spawnGroup(["--import", "tsx", join(fixtures, "hold-program.ts")], {
      TMPDIR: tmp,
    });
    expect(await until(() => /pid \d+/.test(program.output()), 60_000)).toBe(true);
    const pid = Number(/pid (\d+)/.exec(program.output())![1]);

    const { ms, signal } = await ctrlC(program);
    expect(signal).toBe("SIGINT");
    expect(ms).toBeLessThan(3_000);
    expect(alive(pid)).toBe(false);
    expect(ours(tmp)).toEqual([]);
  });

  it("postgres never outlives its owner, even one killed with SIGKILL", async () => {
    const tmp = privateTmp();
    const program = spawnGroup(["--import", "tsx", join(fixtures, "hold-program.ts")], {
      TMPDIR: tmp,
    });
    expect(await until(() => /pid \d+/.test(program.output()), 60_000)).toBe(true);
    const pid = Number(/pid (\d+)/.exec(program.output())![1]);

    process.kill(-program.pid, "SIGKILL");
    await program.exited;
    expect(await until(() => !alive(pid) && ours(tmp).length === 0, 3_000)).toBe(true);
  });

  it("Ctrl-C during a Vitest run stops the global setup's server and a test's own", async () => {
    const tmp = privateTmp();
    const marker = join(tmp, "running");
    const vitest = join(
      dirname(createRequire(import.meta.url).resolve("vitest/package.json")),
      "vitest.mjs",
    );
    const run = spawnGroup([vitest, "run", "--config", join(fixtures, "vitest.config.ts")], {
      TMPDIR: tmp,
      HOLD_MARKER: marker,
    });
    const markers = [`${marker}.suite`, `${marker}.worker`];
    expect(await until(() => markers.every((m) => existsSync(m)), 60_000)).toBe(true);
    const dirs = readdirSync(tmp).filter((f) => f.startsWith("irc-now-pg-"));
    expect(dirs).toHaveLength(2);
    const pids = dirs.map((d) => postmasterPid(join(tmp, d)));

    const started = Date.now();
    const { ms } = await ctrlC(run);
    expect(ms).toBeLessThan(3_000);
    expect(await until(() => pids.every((p) => !alive(p)) && ours(tmp).length === 0, 3_000)).toBe(
      true,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    for (const m of markers) {
      const client = new pg.Client({
        connectionString: readFileSync(m, "utf8"),
        connectionTimeoutMillis: 1_000,
      });
      await expect(client.connect()).rejects.toThrow();
    }
  }, 90_000);
});
