// The typings of irc-framework are a global declaration file (see there); referencing it here
// makes them travel with this module into every program that imports @irc-now/ergo.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration cannot be imported
/// <reference path="../irc-framework.d.ts" />
import { randomBytes } from "node:crypto";
import IRC, { type Client, type IrcMessage } from "irc-framework";
import { type ErgoAdminError, ErgoTimeout, ErgoUnavailable, OperAuthFailed } from "../errors";
import type { ErgoLogger } from "../logger";
import { foldName } from "../validate";
import type { IrcLine } from "./replies";

/**
 * The long-lived oper session: one irc-framework connection at a time, OPERed once per
 * connection, each command's replies collected up to a PING sentinel (ergo answers a
 * connection's commands in order, and its services reply synchronously, so every line a command
 * produced arrives before the PONG of a PING sent right after it, and after the PONG of the
 * command before it). So commands are pipelined: up to `maxInFlight` are on the wire at once,
 * each one's lines being those between the previous sentinel's PONG and its own, instead of
 * each waiting a whole round trip for the one before (4 setups at once queued behind each
 * other's SAREGISTER). The oper must be exempt from fakelag (ergo's `nofakelag` capability).
 */

export interface SessionSettings {
  host: string;
  port: number;
  tls: boolean;
  rejectUnauthorized: boolean;
  operName: string;
  operPassword: string;
  adminNick: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  operFailureCooldownMs: number;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  /** Already scrubbing. */
  logger: ErgoLogger;
  /** Where the logs say we connect (no credentials). */
  displayUrl: string;
  /** Commands pipelined on the connection at once (DEFAULT_MAX_IN_FLIGHT; 1 = one at a time). */
  maxInFlight?: number;
}

/** Enough for the worker's 4 setups and the verifier's WHOIS checks side by side. */
export const DEFAULT_MAX_IN_FLIGHT = 8;

/** The connection went away while a command was in flight (nothing decisive received). */
class LinkLost extends Error {}

/** A link that stays up this long counts as healthy: its loss restarts the backoff. */
const HEALTHY_LINK_MS = 10_000;
const MAX_NICK_RETRIES = 3;

let nextLinkId = 1;

type LinkPhase = "connecting" | "registering" | "opering" | "ready" | "closed";

interface Collector {
  token: string;
  lines: IrcLine[];
  resolve(lines: IrcLine[]): void;
  reject(err: Error): void;
}

/** One connection (one irc-framework Client). */
class Link {
  readonly id = nextLinkId++;
  phase: LinkPhase = "connecting";
  nick: string;
  readyAt = 0;
  private readonly client: Client;
  /** Commands on the wire, oldest first: incoming lines belong to the first. */
  private readonly collectors: Collector[] = [];
  private seq = 0;
  private nickRetries = 0;
  private failure: ErgoAdminError | null = null;
  /** destroy() or quit() was called; the socket close is on its way. */
  private closing = false;
  private serverError: string | null = null;
  private readonly closedPromise: Promise<void>;
  private markClosed!: () => void;

  constructor(
    private readonly s: SessionSettings,
    private readonly events: {
      ready(link: Link): void;
      /** Before ready: the attempt failed. */
      failed(link: Link, error: ErgoAdminError): void;
      /** After ready: the link was lost. */
      lost(link: Link, reason: string): void;
    },
  ) {
    this.nick = s.adminNick;
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    this.client = new IRC.Client({
      host: s.host,
      port: s.port,
      tls: s.tls,
      rejectUnauthorized: s.rejectUnauthorized,
      nick: s.adminNick,
      username: "irc-now",
      gecos: "irc.now account portal",
      auto_reconnect: false,
      ping_interval: 30,
      ping_timeout: 90,
      version: "irc.now account portal",
    });
    // machine-readable REGISTER / FAIL REGISTER replies to SAREGISTER, when ergo offers the cap
    this.client.requestCap("draft/account-registration");
    this.client.use((_client, rawEvents) => {
      rawEvents.use((_command, message, _raw, _c, next) => {
        try {
          this.onMessage(message);
        } catch (err) {
          this.s.logger.error({ link: this.id, err }, "failed to handle a line from ergo");
        }
        next();
      });
    });
    this.client.on("socket close", (err) => this.onSocketClose(err));
  }

  start(): void {
    this.client.connect();
  }

  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Ready for commands: OPERed and not being torn down. */
  get ready(): boolean {
    return this.phase === "ready" && !this.closing;
  }

  /** Sends one command line and collects every line up to the PONG of a sentinel PING. */
  exchange(line: string, timeoutMs: number, label: string): Promise<IrcLine[]> {
    if (!this.ready) return Promise.reject(new LinkLost("link not ready"));
    const token = `irc-now-${this.id}-${++this.seq}`;
    return new Promise<IrcLine[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.collectors.indexOf(collector);
        if (at < 0) return;
        this.collectors.splice(at, 1);
        reject(new ErgoTimeout(`ergo did not answer ${label} within ${timeoutMs} ms`));
        // the session is wedged or late replies could be misattributed: start afresh (the
        // commands behind this one end as lost and are retried on the new connection)
        this.destroy(`no answer to ${label}`);
      }, timeoutMs);
      const collector: Collector = {
        token,
        lines: [],
        resolve: (lines) => {
          clearTimeout(timer);
          resolve(lines);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.collectors.push(collector);
      this.client.raw(line);
      this.client.raw(`PING ${token}`);
    });
  }

  /** Ends the link without QUIT (used on failures); idempotent. */
  destroy(reason: string): void {
    if (this.phase === "closed") return;
    this.closing = true;
    this.s.logger.debug({ link: this.id, reason }, "closing ergo connection");
    this.client.connection.end(undefined, true);
    // irc-framework may not report a close for a socket that never opened: make sure we do
    setTimeout(() => this.onSocketClose(undefined), 2_000).unref();
  }

  /** Ends the link politely (QUIT); resolves once the socket is closed (bounded). */
  async quit(): Promise<void> {
    if (this.phase === "closed") return;
    this.closing = true;
    if (this.phase === "ready") this.client.quit("irc.now portal shutting down");
    else this.client.connection.end(undefined, true);
    const timer = setTimeout(() => this.onSocketClose(undefined), 2_000);
    await this.closedPromise;
    clearTimeout(timer);
  }

  private fail(error: ErgoAdminError): void {
    if (this.failure || this.phase === "ready" || this.phase === "closed") return;
    this.failure = error;
    this.events.failed(this, error);
    this.destroy(error.message);
  }

  private onMessage(message: IrcMessage): void {
    if (this.phase === "closed") return;
    const line: IrcLine = {
      source: message.nick || message.prefix,
      command: message.command.toUpperCase(),
      params: message.params,
    };
    switch (line.command) {
      case "001":
        this.nick = line.params[0] ?? this.nick;
        if (this.phase === "connecting" || this.phase === "registering") {
          this.phase = "opering";
          // never logged: the password is in this line
          this.client.raw(`OPER ${this.s.operName} :${this.s.operPassword}`);
        }
        return;
      case "381":
        if (this.phase === "opering") {
          this.phase = "ready";
          this.readyAt = Date.now();
          this.events.ready(this);
        }
        return;
      case "464":
      case "491":
        if (this.phase === "opering") {
          this.fail(
            new OperAuthFailed(
              `ergo refused the oper credentials of "${this.s.operName}" (${line.command} ${line.params.at(-1) ?? ""}); check ERGO_OPER_NAME and ERGO_OPER_PASSWORD`,
            ),
          );
        }
        return;
      case "432":
      case "433":
        if (this.phase === "connecting" || this.phase === "registering") this.retryNick(line);
        return;
      case "NICK":
        if (foldName(line.source) === foldName(this.nick)) {
          const next = line.params[0] ?? this.nick;
          if (foldName(next) !== foldName(this.nick)) {
            this.s.logger.warn(
              { link: this.id, from: this.nick, to: next },
              "ergo renamed the oper session (was an account registered under its nick?)",
            );
          }
          this.nick = next;
        }
        break;
      case "MODE":
        if (
          foldName(line.params[0] ?? "") === foldName(this.nick) &&
          /^-[a-zA-Z]*o/.test(line.params[1] ?? "") &&
          this.phase === "ready"
        ) {
          this.s.logger.warn({ link: this.id }, "the oper session lost its operator status");
          this.destroy("de-opered");
        }
        break;
      case "ERROR":
        this.serverError = line.params.at(-1) ?? "ERROR";
        break;
    }
    if (this.phase === "connecting") this.phase = "registering";
    const collector = this.collectors[0];
    if (collector && this.phase === "ready") {
      if (line.command === "PONG" && line.params.at(-1) === collector.token) {
        this.collectors.shift();
        collector.resolve(collector.lines);
      } else {
        collector.lines.push(line);
      }
    }
  }

  private retryNick(line: IrcLine): void {
    if (++this.nickRetries > MAX_NICK_RETRIES) {
      this.fail(
        new ErgoUnavailable(
          `ergo refused the admin nick ${this.s.adminNick} and its alternatives (${line.command} ${line.params.at(-1) ?? ""})`,
        ),
      );
      return;
    }
    const suffix = randomBytes(4).toString("hex").slice(0, 5);
    const alternative = `${this.s.adminNick.slice(0, 25)}-${suffix}`;
    this.s.logger.warn(
      { link: this.id, nick: this.s.adminNick, alternative, reply: line.command },
      "admin nick unavailable, trying an alternative",
    );
    this.nick = alternative;
    this.client.raw(`NICK ${alternative}`);
  }

  private onSocketClose(err: Error | false | undefined): void {
    if (this.phase === "closed") return;
    const wasReady = this.phase === "ready";
    this.phase = "closed";
    this.client.removeAllListeners();
    const reason =
      this.serverError !== null
        ? `ergo closed the connection: ${this.serverError}`
        : err
          ? `connection error: ${describeSocketError(err)}`
          : "connection closed";
    for (const collector of this.collectors.splice(0)) collector.reject(new LinkLost(reason));
    if (wasReady) this.events.lost(this, reason);
    else if (!this.failure) {
      this.failure = new ErgoUnavailable(
        `cannot connect to ergo at ${this.s.displayUrl}: ${reason}`,
      );
      this.events.failed(this, this.failure);
    }
    this.markClosed();
  }
}

function describeSocketError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code} ${err.message}` : err.message;
}

interface Waiter {
  resolve(link: Link): void;
  reject(err: Error): void;
}

export class OperSession {
  private link: Link | null = null;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private authFailure: { message: string; until: number } | null = null;
  /** Why the last connection attempt failed (null once a connection is ready). */
  private lastFailure: ErgoAdminError | null = null;
  private readonly waiters = new Set<Waiter>();
  /** Commands on the wire now, and the ones waiting for a place (first come, first sent). */
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];
  private closed = false;

  constructor(private readonly s: SessionSettings) {}

  /** The nick the session currently has on ergo (tracked from 001 and NICK). */
  get currentNick(): string {
    return this.link?.nick ?? this.s.adminNick;
  }

  /**
   * Runs `line` on the session (pipelined with at most `maxInFlight - 1` others) and returns the
   * lines it produced. A connection lost mid-command is retried once on a fresh connection:
   * every command the port sends (SAREGISTER→PASSWD, PASSWD, WHOIS) is safe to repeat.
   */
  command(line: string, label: string): Promise<IrcLine[]> {
    const run = async (): Promise<IrcLine[]> => {
      for (let attempt = 0; ; attempt++) {
        const link = await this.acquire();
        try {
          this.s.logger.debug({ link: link.id, command: label }, "ergo command");
          return await link.exchange(line, this.s.commandTimeoutMs, label);
        } catch (err) {
          if (err instanceof LinkLost) {
            if (attempt === 0) {
              this.s.logger.warn(
                { command: label, reason: err.message },
                "connection lost mid-command, retrying once",
              );
              continue;
            }
            throw new ErgoUnavailable(`connection to ergo lost during ${label}: ${err.message}`);
          }
          throw err;
        }
      }
    };
    return this.inPlace(run);
  }

  private async inPlace<T>(run: () => Promise<T>): Promise<T> {
    const max = this.s.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    while (this.inFlight >= max) await new Promise<void>((r) => this.queued.push(r));
    this.inFlight++;
    try {
      return await run();
    } finally {
      this.inFlight--;
      this.queued.shift()?.();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.rejectWaiters(new ErgoUnavailable("the ergo admin session is closed"));
    const link = this.link;
    this.link = null;
    if (link) await link.quit();
  }

  /** A ready link, connecting (or waiting for the reconnect) when needed. */
  private acquire(): Promise<Link> {
    if (this.closed) return Promise.reject(new ErgoUnavailable("the ergo admin session is closed"));
    if (this.authFailure) {
      if (Date.now() < this.authFailure.until) {
        return Promise.reject(new OperAuthFailed(this.authFailure.message));
      }
      this.authFailure = null;
    }
    if (this.link?.ready) return Promise.resolve(this.link);
    if (!this.link && !this.reconnectTimer) this.connect();
    return new Promise<Link>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const last = this.lastFailure;
        if (last === null || last instanceof ErgoTimeout) {
          reject(
            new ErgoTimeout(
              `ergo at ${this.s.displayUrl} did not complete connection, registration and OPER within ${this.s.connectTimeoutMs} ms`,
            ),
          );
        } else {
          reject(new ErgoUnavailable(`${last.message}; still retrying with backoff`));
        }
      }, this.s.connectTimeoutMs);
      const waiter: Waiter = {
        resolve: (link) => {
          clearTimeout(timer);
          resolve(link);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.add(waiter);
    });
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.closed) return;
    const link = new Link(this.s, {
      ready: (l) => this.onReady(l),
      failed: (l, error) => this.onFailed(l, error),
      lost: (l, reason) => this.onLost(l, reason),
    });
    this.link = link;
    this.s.logger.info(
      { link: link.id, url: this.s.displayUrl, attempt: this.attempt },
      "connecting the ergo oper session",
    );
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.link === link && !link.ready) {
        this.onFailed(
          link,
          new ErgoTimeout(
            `ergo at ${this.s.displayUrl} did not complete connection, registration and OPER within ${this.s.connectTimeoutMs} ms`,
          ),
        );
        link.destroy("connect timeout");
      }
    }, this.s.connectTimeoutMs);
    link.start();
  }

  private onReady(link: Link): void {
    if (this.link !== link) return;
    this.clearConnectTimer();
    this.lastFailure = null;
    this.s.logger.info({ link: link.id, nick: link.nick }, "ergo oper session ready");
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      w.resolve(link);
    }
  }

  private onFailed(link: Link, error: ErgoAdminError): void {
    if (this.link !== link) return;
    this.clearConnectTimer();
    this.link = null;
    this.lastFailure = error;
    if (error instanceof OperAuthFailed) {
      // no reconnect storm: every call fails fast with this error until the cool-down ends
      this.authFailure = {
        message: error.message,
        until: Date.now() + this.s.operFailureCooldownMs,
      };
      this.s.logger.error(
        { link: link.id, err: error, cooldownMs: this.s.operFailureCooldownMs },
        "ergo refused the oper credentials; not reconnecting until the cool-down ends",
      );
      this.rejectWaiters(error);
      return;
    }
    // waiting calls keep waiting (until their own deadline) for the next attempt
    this.s.logger.warn({ link: link.id, err: error }, "ergo oper session could not be established");
    this.attempt++;
    this.scheduleReconnect();
  }

  private onLost(link: Link, reason: string): void {
    if (this.link !== link) return;
    this.link = null;
    if (Date.now() - link.readyAt >= HEALTHY_LINK_MS) this.attempt = 0;
    else this.attempt++;
    this.s.logger.warn({ link: link.id, reason }, "ergo oper session lost");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(
      this.s.reconnectMaxDelayMs,
      this.s.reconnectInitialDelayMs * 2 ** Math.min(this.attempt, 20),
    );
    // "equal jitter": between half and all of the exponential delay
    const delayMs = Math.round(base / 2 + Math.random() * (base / 2));
    this.s.logger.info({ delayMs, attempt: this.attempt }, "reconnecting the ergo oper session");
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
    this.reconnectTimer.unref();
  }

  private rejectWaiters(error: Error): void {
    for (const w of [...this.waiters]) {
      this.waiters.delete(w);
      // a fresh instance per caller, so stacks and mutations do not leak between calls
      w.reject(cloneError(error));
    }
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

function cloneError(error: Error): Error {
  if (error instanceof OperAuthFailed) return new OperAuthFailed(error.message);
  if (error instanceof ErgoTimeout) return new ErgoTimeout(error.message);
  if (error instanceof ErgoUnavailable) return new ErgoUnavailable(error.message);
  return error;
}
