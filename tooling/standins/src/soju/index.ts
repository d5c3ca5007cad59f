import { AdminSocketServer } from "./admin";
import { Bouncer, type BouncerConfig } from "./bouncer";
import { DownstreamServer, SimulatedDownstream, downstreamConnected } from "./downstream";
import { adminSocketFromConfigFile, runSojuctl, type SojuctlResult } from "./sojuctl";
import { SojuStore } from "./store";

export { splitWords, goQuote, quoteWordsForSoju, sojuctlCommandText } from "./words";
export { formatIrcMessage, parseIrcLine, type IrcMessage } from "./irc";
export { userDeleteToken } from "./service";
export { SOJU_SCHEMA_VERSION } from "./schema";
export { parseDownstreamUsername } from "./downstream";
export type { SojuctlResult } from "./sojuctl";

export interface SojuStandinOptions {
  /** The bouncer's tenant database (soju's `db postgres "<url>"`). */
  databaseUrl: string;
  /** soju's `hostname` directive: the prefix of admin-socket replies. Default `soju.test`. */
  hostname?: string;
  /** `listen unix+admin://<path>`. The parent directory is created; the socket is chmod 0600. */
  adminSocketPath: string;
  /**
   * The config path `sojuctl -config` accepts for this instance without a file on disk (the path
   * inside the "pod"). Default `/etc/soju/config`. A real file with a `listen unix+admin://`
   * directive is accepted too.
   */
  configPath?: string;
  /** Start a downstream IRC listener (PASS/NICK/USER or SASL login). Port 0 = a free one. */
  downstream?: { host?: string; port?: number };
  /** The global `max-user-networks` (default -1, unlimited). */
  maxUserNetworks?: number;
  /**
   * Upstream reconnect backoff. soju waits 1 min…10 min; the stand-in defaults to 1 s…30 s so dev
   * and tests see reconnects. The first attempt is immediate.
   */
  reconnectMinDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** Connect + registration deadline per upstream attempt (soju: 1 min). */
  upstreamTimeoutMs?: number;
  /**
   * soju.conf `auth http <url>` (soju 0.10.1, auth/http.go): every PASS and SASL PLAIN login is a
   * `POST <url>` with Basic credentials; soju's own stored passwords are no longer used. The
   * authenticated user must exist in soju (`enable-user-on-auth` is not modelled: off).
   */
  authHttp?: string;
  log?: (line: string) => void;
}

export interface UpstreamStatus {
  state: "disabled" | "connecting" | "connected" | "disconnected";
  nick?: string;
  account?: string;
  lastError?: string;
}

export interface SimulatedDownstreamHandle {
  /** Lines the bouncer sent to this client (e.g. `server notice`). */
  readonly lines: readonly string[];
  disconnect(): Promise<void>;
}

export interface SojuStandin {
  readonly hostname: string;
  readonly adminSocketPath: string;
  readonly configPath: string;
  /** The downstream listener's address, when `downstream` was given. */
  readonly downstreamAddress: { host: string; port: number } | undefined;
  /** `sojuctl -config <path> <words…>` against this instance; argv may start with `sojuctl`. */
  runSojuctl(argv: readonly string[]): Promise<SojuctlResult>;
  /** Like a pod restart: drop every connection, re-read the database, reconnect upstreams. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** A downstream client login of `username` (what a real client triggers): rewrites the user row. */
  simulateDownstreamConnect(username: string, network?: string): Promise<SimulatedDownstreamHandle>;
  /** The in-memory view of a network's upstream (for tests and dev tooling). */
  upstreamStatus(username: string, network: string): UpstreamStatus | undefined;
}

interface Running {
  store: SojuStore;
  bouncer: Bouncer;
  admin: AdminSocketServer;
  downstream: DownstreamServer | undefined;
}

/**
 * Starts one soju stand-in (one per bouncer), modelling soju v0.10.1: it creates/migrates its own
 * schema, loads users and networks into memory once, serves the admin socket, connects upstream.
 * Rejects with soju's own startup error (e.g. `failed to open database: failed to initialize
 * schema: pq: relation "User" already exists`).
 */
export async function startSojuStandin(options: SojuStandinOptions): Promise<SojuStandin> {
  const hostname = options.hostname ?? "soju.test";
  const configPath = options.configPath ?? "/etc/soju/config";
  const log = options.log ?? (() => undefined);
  const config: BouncerConfig = {
    hostname,
    maxUserNetworks: options.maxUserNetworks ?? -1,
    reconnectMinDelayMs: options.reconnectMinDelayMs ?? 1000,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 30_000,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 60_000,
    authHttp: options.authHttp,
    log,
  };
  let downstreamPort = options.downstream?.port ?? 0;

  const boot = async (): Promise<Running> => {
    const store = await SojuStore.open(options.databaseUrl);
    const bouncer = new Bouncer(store, config);
    try {
      await bouncer.load();
      const admin = await AdminSocketServer.listen(bouncer, options.adminSocketPath);
      let downstream: DownstreamServer | undefined;
      if (options.downstream) {
        downstream = await DownstreamServer.listen(
          bouncer,
          options.downstream.host ?? "127.0.0.1",
          downstreamPort,
        );
        downstreamPort = downstream.address.port;
      }
      return { store, bouncer, admin, downstream };
    } catch (error) {
      bouncer.stop();
      await store.close();
      throw error;
    }
  };

  const shutdown = async (r: Running): Promise<void> => {
    await r.admin.close();
    await r.downstream?.close();
    r.bouncer.stop();
    // Let in-flight service commands finish before the pool goes away.
    await r.bouncer.queue.run(async () => undefined);
    await r.store.close();
  };

  let running: Running | undefined = await boot();
  let transition: Promise<void> = Promise.resolve();
  /** Once stopped, a restart queued behind the stop must not bring the instance back. */
  let stopped = false;
  const current = (): Running => {
    if (!running) throw new Error("soju stand-in is stopped");
    return running;
  };

  return {
    hostname,
    adminSocketPath: options.adminSocketPath,
    configPath,
    get downstreamAddress() {
      return running?.downstream?.address;
    },
    runSojuctl(argv) {
      return runSojuctl(argv, async (path) =>
        path === configPath ? options.adminSocketPath : adminSocketFromConfigFile(path),
      );
    },
    restart() {
      transition = transition
        .catch(() => undefined)
        .then(async () => {
          if (stopped) return;
          if (running) await shutdown(running);
          running = undefined;
          running = await boot();
        });
      return transition;
    },
    stop() {
      stopped = true;
      transition = transition
        .catch(() => undefined)
        .then(async () => {
          if (running) await shutdown(running);
          running = undefined;
        });
      return transition;
    },
    async simulateDownstreamConnect(username, network) {
      const { bouncer } = current();
      const user = bouncer.getUser(username);
      if (!user) throw new Error(`unknown username ${JSON.stringify(username)}`);
      const session = new SimulatedDownstream(
        bouncer,
        user,
        network ? user.getNetwork(network) : undefined,
        user.record.nick || username,
      );
      await downstreamConnected(bouncer, session);
      return session;
    },
    upstreamStatus(username, network) {
      const net = running?.bouncer.getUser(username)?.getNetwork(network);
      if (!net) return undefined;
      if (net.conn) return { state: "connected", nick: net.conn.nick, account: net.conn.account };
      if (!net.record.enabled) return { state: "disabled" };
      if (net.attempting) return { state: "connecting" };
      return net.lastError
        ? { state: "disconnected", lastError: net.lastError }
        : { state: "disconnected" };
    },
  };
}
