/**
 * SojuAdmin: the one port through which the portal changes a running soju (DESIGN.md §2).
 * soju loads users and networks only at start-up, so rows written into its DB are invisible
 * until it restarts; every adapter therefore has BouncerServ semantics (facts/soju.md §5, §7).
 *
 * Every call names the bouncer (the SojuBouncer CR name) so the adapter can find its pod,
 * socket or tenant DB, and the soju user the command runs as (`user run <user> …`).
 */

export interface NetworkSpec {
  /** soju network name, e.g. `irc.now`. */
  name: string;
  /** `ircs://host:port`, `irc+insecure://host:port` or `unix:///path` (soju rejects irc://). */
  addr: string;
  nick: string;
  username: string;
  realname?: string;
  enabled: boolean;
}

export type SaslState =
  | { kind: "authenticated"; account: string }
  | { kind: "unauthenticated" }
  | { kind: "disconnected" }
  /** soju answered without a state line (v0.7.0 may drop it) or with a text we do not know. */
  | { kind: "unknown"; detail?: string };

export interface SaslStatus {
  /** `SASL PLAIN enabled with username "<u>"`; null when no SASL mechanism is set. */
  plainUsername: string | null;
  state: SaslState;
}

export interface NetworkStatus {
  name: string;
  addr: string;
  state: "connected" | "disconnected" | "disabled" | "unknown";
  channels?: number;
  error?: string;
}

export interface SojuAdmin {
  /** Runs BouncerServ words as `user` (`user run <user> <words…>`); returns soju's output lines. */
  userRun(bouncer: string, user: string, words: string[]): Promise<string[]>;
  /** `user create`; "exists" when soju already has the user. */
  createUser(
    bouncer: string,
    user: { username: string; password?: string; disablePassword?: boolean },
  ): Promise<"created" | "exists">;
  /** `network create` (or `network update` when a network of that name exists). */
  createOrUpdateNetwork(
    bouncer: string,
    user: string,
    network: NetworkSpec,
  ): Promise<"created" | "updated">;
  /** `sasl set-plain -network <network> <username> <password>` (does not reconnect). */
  setSaslPlain(
    bouncer: string,
    user: string,
    network: string,
    username: string,
    password: string,
  ): Promise<void>;
  /** `network update <network> -enabled true`: soju (re)connects. */
  enableNetwork(bouncer: string, user: string, network: string): Promise<void>;
  /**
   * The upstream setup's soju step in one round trip where the adapter can (one exec session,
   * one admin-socket turn): `network create` (or `update` when it exists) with `-enabled false`,
   * `sasl set-plain`, then `network update -enabled true`, strictly in that order and stopping
   * at the first failure, so the network is never enabled before its credentials are set. A
   * failure is the failing command's typed error; a SojuCommandFailed names that command.
   *
   * `enableAfter`: a new network is created (disabled) and given the credentials at once, and
   * the enable waits for it — it runs once `enableAfter` resolves and never when it rejects
   * (the call then rejects with that reason; the network stays disabled). Still one round trip
   * where the medium allows (exec: the enable is a second batch on the same session). A network
   * that exists already is not touched before `enableAfter` resolves (a rejection leaves it as
   * it was), then updated as without it. sql-restart writes nothing before it resolves. The
   * upstream setup writes a new network while ergo is being set up and enables it only after
   * ergo accepted the password.
   */
  applyUpstreamNetwork(
    bouncer: string,
    user: string,
    network: Omit<NetworkSpec, "enabled">,
    sasl: { username: string; password: string },
    options?: { enableAfter?: Promise<unknown> },
  ): Promise<"created" | "updated">;
  /**
   * Optional prefetch hook: `applyUpstreamNetwork` on this bouncer is coming soon; the adapter
   * may open its round trip ahead (exec: the session, waiting for its stdin, so nothing runs
   * until the commands are sent). Sends nothing; never fails (a failed prefetch is redone by
   * `applyUpstreamNetwork`, which reports its own error); an unused prefetch is dropped.
   */
  prepareUpstreamNetwork?(bouncer: string): void;
  /**
   * `user update <username> -enabled true|false` (as the admin; soju refuses it for one's own
   * user). Disabled, soju 0.10.1 closes the user's clients, drops its upstream connections and
   * answers new logins `ERROR :This bouncer account is disabled`; enabled, it reconnects upstream.
   * Setting the state it already has is a no-op that succeeds. An unknown user is a
   * SojuCommandFailed (`unknown username "<u>"`).
   */
  setUserEnabled(bouncer: string, username: string, enabled: boolean): Promise<void>;
  saslStatus(bouncer: string, user: string, network: string): Promise<SaslStatus>;
  networkStatus(bouncer: string, user: string): Promise<NetworkStatus[]>;
  /**
   * Forgets the bouncer: closes what the adapter keeps open for it (the socket adapter's
   * admin connection), after commands already queued for it. Call it when the bouncer is
   * deleted; a later command for the same name starts afresh. A no-op for adapters that keep
   * nothing per bouncer (exec, sql-restart).
   */
  release(bouncer: string): Promise<void>;
  close(): Promise<void>;
}

/** soju answered `FAIL BOUNCERSERV :<text>` (or sojuctl exited 1 with that text). */
export class SojuCommandFailed extends Error {
  override readonly name = "SojuCommandFailed";
  constructor(
    readonly reply: string,
    /** Which command of a sequence soju refused (e.g. `sasl set-plain`); never its values. */
    readonly command?: string,
  ) {
    super(
      command === undefined
        ? `soju refused the command: ${reply}`
        : `soju refused ${command}: ${reply}`,
    );
  }
}

/** soju could not be reached (no running pod, socket missing, connection closed early…). */
export class SojuUnavailable extends Error {
  override readonly name = "SojuUnavailable";
}

/**
 * A command word that soju cannot receive intact: CR, LF or NUL anywhere (they end or break the
 * IRC line), a lone UTF-16 surrogate, or (exec adapter only) a character sojuctl would mangle.
 * Raised before anything is sent. The message names the word's position, never its value.
 */
export class SojuInvalidArgument extends Error {
  override readonly name = "SojuInvalidArgument";
}

/** The configured adapter cannot do this (e.g. `userRun` with `SOJU_ADMIN=sql-restart`). */
export class SojuUnsupported extends Error {
  override readonly name = "SojuUnsupported";
}
