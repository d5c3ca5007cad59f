import { createTestDatabase } from "@irc-now/db/testing";
import {
  freePort,
  kitStart,
  kitStop,
  makeStateDir,
  runKitScript,
  withFreshPorts,
  type Facts,
} from "./kit";
import { track } from "./registry";

/** What a running real soju (v0.10.1, PostgreSQL only) is: plain data. */
export interface SojuFacts {
  stateDir: string;
  /** `<stateDir>/admin.sock`: soju's `listen unix+admin://` socket (what sojuctl uses). */
  adminSocketPath: string;
  /** soju's config file (`-config` for sojuctl works too). */
  configPath: string;
  /** A config holding only the admin listener, for `sojuctl -config`. */
  sojuctlConfigPath: string;
  /** soju's `hostname` (prefix of its replies): `soju.test`. */
  hostname: string;
  /** The tenant database soju uses (it creates its own schema there on first start). */
  databaseUrl: string;
  /** The plain-text downstream listener `irc+insecure://127.0.0.1:<port>`. */
  ircUrl: string;
  host: string;
  port: number;
  logFile: string;
  pid: number;
}

export interface StartSojuOptions {
  /**
   * An EXISTING, preferably empty database (soju creates its schema in it). Or give `postgresUrl`
   * (any database URL on a server) and a fresh `soju_xxxxxxxxxx` database is created there.
   */
  databaseUrl?: string;
  postgresUrl?: string;
  /**
   * State directory (created when missing, kept after stop). One per soju: to serve a
   * `SOJU_ADMIN_SOCKET` template `<root>/{name}/admin.sock`, pass `join(root, name)`.
   * Default: a new directory, removed on stop. Its path + `/admin.sock` must be ≤ 100 characters.
   */
  stateDir?: string;
  /** Port of the downstream `irc+insecure://127.0.0.1:<port>` listener (default: a free one). */
  port?: number;
  /** `auth http <url>`: soju POSTs Basic credentials there on every client login. */
  authHttp?: string;
  /** `enable-user-on-auth true` (with `authHttp`). */
  enableUserOnAuth?: boolean;
  /** Raw extra soju.conf directives, e.g. `["max-user-networks 5"]`. */
  confLines?: string[];
}

export interface SojuctlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RealSoju extends SojuFacts {
  facts(): SojuFacts;
  /** `sojuctl <words…>` against this soju (BouncerServ over its admin socket). */
  sojuctl(...words: string[]): Promise<SojuctlResult>;
  /** Like `sojuctl`, but rejects unless soju answered OK; resolves to the output lines. */
  bouncerServ(...words: string[]): Promise<string[]>;
  /**
   * Stops soju and starts it again from the same state dir, DB and port (what a pod restart does:
   * soju reloads users and networks from its DB only at startup). Resolves once it is up again.
   */
  restart(): Promise<void>;
  /** Number of restart() calls that completed. */
  readonly restarts: number;
  /** Stops soju (SIGTERM, SIGKILL after 15 s) and removes the state dir when this call created it. */
  stop(): Promise<void>;
}

/** Starts one real soju from the kit, with its own state dir, database and ports. */
export async function startSoju(options: StartSojuOptions): Promise<RealSoju> {
  let databaseUrl = options.databaseUrl;
  if (databaseUrl === undefined) {
    if (options.postgresUrl === undefined)
      throw new Error("startSoju needs databaseUrl (an existing database) or postgresUrl");
    databaseUrl = await createTestDatabase(options.postgresUrl, "soju");
  }
  const owned = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await makeStateDir("soju-"));
  const stop = track("soju.sh", stateDir, owned);
  let port = options.port;

  const argv = (p: number): string[] => {
    const args = [stateDir, "--db", databaseUrl, "--listen", `irc+insecure://127.0.0.1:${p}`];
    if (options.authHttp) args.push("--auth-http", options.authHttp);
    if (options.enableUserOnAuth) args.push("--enable-user-on-auth");
    for (const line of options.confLines ?? []) args.push("--conf-line", line);
    return args;
  };
  const toFacts = (facts: Facts): SojuFacts => ({
    stateDir,
    adminSocketPath: need(facts, "SOJU_ADMIN_SOCKET"),
    configPath: need(facts, "SOJU_CONFIG"),
    sojuctlConfigPath: need(facts, "SOJUCTL_CONFIG"),
    hostname: need(facts, "SOJU_HOSTNAME"),
    databaseUrl,
    ircUrl: need(facts, "SOJU_IRC_URL"),
    host: need(facts, "SOJU_HOST"),
    port: Number(need(facts, "SOJU_PORT")),
    logFile: need(facts, "SOJU_LOG"),
    pid: Number(need(facts, "PID")),
  });
  const start = () =>
    withFreshPorts(async () => {
      const p = port ?? (await freePort());
      const facts = await kitStart("soju.sh", argv(p));
      port = p;
      return toFacts(facts);
    });

  try {
    let current = await start();
    let restarts = 0;
    const sojuctl = async (...words: string[]): Promise<SojuctlResult> =>
      runKitScript("sojuctl.sh", [stateDir, ...words], { timeoutMs: 60_000 });
    const handle: RealSoju = {
      ...current,
      facts: () => ({ ...current }),
      sojuctl,
      async bouncerServ(...words) {
        const result = await sojuctl(...words);
        if (result.exitCode !== 0)
          throw new Error(`sojuctl ${words.join(" ")}: ${result.stderr.trim() || "failed"}`);
        return result.stdout.split("\n").filter((l) => l !== "");
      },
      async restart() {
        await kitStop("soju.sh", stateDir);
        current = await start();
        Object.assign(handle, current);
        restarts += 1;
      },
      get restarts() {
        return restarts;
      },
      stop,
    };
    return handle;
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

function need(facts: Record<string, string>, key: string): string {
  const value = facts[key];
  if (value === undefined) throw new Error(`the kit did not report ${key}`);
  return value;
}
