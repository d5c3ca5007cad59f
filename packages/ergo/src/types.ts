import type { ErgoLogger } from "./logger";

/** The ErgoAdmin port: what the portal needs from ergo (DESIGN.md §2 "Upstream setup"). */
export interface ErgoAdmin {
  /** Which adapter this is. */
  readonly kind: "irc" | "http";
  /**
   * Makes `account` exist with `password`: `NS SAREGISTER` (or `/v1/ns/saregister`); when ergo
   * says the account exists, resets it as oper with `NS PASSWD <account> <password>` (or
   * `/v1/ns/passwd`). ergo has no SAPASSWD.
   */
  ensureAccount(account: string, password: string): Promise<"created" | "reset">;
  /**
   * `NS SAREGISTER` (or `/v1/ns/saregister`) only: "exists" when ergo already has the account.
   * A name ergo reserves (service names, the guest pattern) is an ErgoRejected, not "exists",
   * where ergo's reply tells them apart.
   */
  register(account: string, password: string): Promise<"created" | "exists">;
  /** Oper `NS PASSWD <account> <password>` (or `/v1/ns/passwd`): the account must exist. */
  resetPassword(account: string, password: string): Promise<void>;
  /** True when ergo accepts `password` for `account` (SASL PLAIN 903, or `/v1/check_auth`). */
  checkCredentials(account: string, password: string): Promise<boolean>;
  /**
   * Erases `account` as oper (`NS ERASE <account>`, then again with the confirmation code ergo
   * sends): every record goes, and the name can be registered again. An account that does not
   * exist counts as erased (ergo itself answers "Successfully unregistered account" then), so a
   * repeated call is safe. ergo's HTTP API has no such endpoint (up to 2.19 and master): the HTTP
   * adapter uses the oper session when one is configured too, and fails clearly otherwise.
   */
  unregisterAccount(account: string): Promise<void>;
  /** The account `nick` is logged in as; null when the nick is not online or not logged in. */
  whois(nick: string): Promise<string | null>;
  /** Ends the session and every pending call (they fail with ErgoUnavailable). */
  close(): Promise<void>;
}

/** The variables of packages/config's `ergoEnv` area (all optional here; validated there). */
export interface ErgoAdminConfig {
  ERGO_IRC_URL?: string | undefined;
  ERGO_OPER_NAME?: string | undefined;
  ERGO_OPER_PASSWORD?: string | undefined;
  /** Default `irc-now-admin`. */
  ERGO_ADMIN_NICK?: string | undefined;
  ERGO_API_URL?: string | undefined;
  ERGO_API_TOKEN?: string | undefined;
}

export interface ErgoAdminOptions {
  /** pino-compatible logger; everything logged through it is scrubbed of secrets. */
  logger?: ErgoLogger;
  /** Time for one NickServ command, WHOIS, SASL check or HTTP request (10 000 ms). */
  commandTimeoutMs?: number;
  /** IRC adapter: commands pipelined on the oper session at once (8; 1 = one at a time). */
  maxCommandsInFlight?: number;
  /** Time to connect, register and OPER the session, or to wait for it while reconnecting (15 000 ms). */
  connectTimeoutMs?: number;
  /**
   * ircs:// only: verify ergo's certificate (true). Set false to accept a self-signed
   * certificate (tests, private networks).
   */
  tlsRejectUnauthorized?: boolean;
  /** After OperAuthFailed, calls fail fast with the same error for this long (300 000 ms). */
  operFailureCooldownMs?: number;
  /** Reconnect backoff of the oper session: first delay and cap (250 ms, 30 000 ms), with jitter. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
}
