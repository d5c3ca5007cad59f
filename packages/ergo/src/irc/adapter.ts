import { ErgoRejected, ErgoUnavailable, OperAuthFailed } from "../errors";
import { sanitizeError } from "../guard";
import { scrubbingLogger, silentLogger, type ErgoLogger } from "../logger";
import { Scrubber } from "../scrub";
import type { ErgoAdmin } from "../types";
import { checkName, checkPassword, foldName } from "../validate";
import {
  accountFromWhois,
  classifyErase,
  classifyPasswd,
  classifySaregister,
  type NickServOutcome,
} from "./replies";
import { saslPlainProbe } from "./sasl-probe";
import { OperSession } from "./session";

export interface IrcErgoAdminOptions {
  /** `irc://host[:6667]` or `ircs://host[:6697]`. */
  url: string;
  operName: string;
  operPassword: string;
  adminNick: string;
  logger?: ErgoLogger;
  commandTimeoutMs?: number;
  maxCommandsInFlight?: number;
  connectTimeoutMs?: number;
  tlsRejectUnauthorized?: boolean;
  operFailureCooldownMs?: number;
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
}

export interface IrcTarget {
  host: string;
  port: number;
  tls: boolean;
  displayUrl: string;
}

/** Reads ERGO_IRC_URL: irc:// (plain, default port 6667) or ircs:// (TLS, default 6697). */
export function parseIrcUrl(url: string): IrcTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError("ERGO_IRC_URL is not a URL (expected irc://host:port or ircs://host:port)");
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (scheme !== "irc" && scheme !== "ircs") {
    throw new TypeError(`ERGO_IRC_URL must use irc:// or ircs:// (got ${scheme}://)`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new TypeError("ERGO_IRC_URL has no host");
  const tls = scheme === "ircs";
  const port = parsed.port === "" ? (tls ? 6697 : 6667) : Number.parseInt(parsed.port, 10);
  return { host, port, tls, displayUrl: `${scheme}://${parsed.host}` };
}

/**
 * ErgoAdmin over a long-lived IRC oper session (irc-framework). SASL checks use their own
 * short-lived connection.
 */
export class IrcErgoAdmin implements ErgoAdmin {
  readonly kind = "irc" as const;
  private readonly scrubber: Scrubber;
  private readonly log: ErgoLogger;
  private readonly target: IrcTarget;
  private readonly session: OperSession;
  private readonly adminNick: string;
  private readonly commandTimeoutMs: number;
  private readonly rejectUnauthorized: boolean;
  private readonly probes = new Set<Promise<unknown>>();
  private closed = false;

  constructor(options: IrcErgoAdminOptions) {
    this.scrubber = new Scrubber([options.operPassword]);
    this.log = scrubbingLogger(options.logger ?? silentLogger, this.scrubber);
    this.target = parseIrcUrl(options.url);
    this.adminNick = options.adminNick;
    checkName("nick", this.adminNick);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    this.rejectUnauthorized = options.tlsRejectUnauthorized ?? true;
    this.session = new OperSession({
      host: this.target.host,
      port: this.target.port,
      tls: this.target.tls,
      rejectUnauthorized: this.rejectUnauthorized,
      operName: options.operName,
      operPassword: options.operPassword,
      adminNick: options.adminNick,
      commandTimeoutMs: this.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      operFailureCooldownMs: options.operFailureCooldownMs ?? 300_000,
      reconnectInitialDelayMs: options.reconnectInitialDelayMs ?? 250,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 30_000,
      logger: this.log,
      displayUrl: this.target.displayUrl,
      maxInFlight: options.maxCommandsInFlight,
    });
  }

  async ensureAccount(account: string, password: string): Promise<"created" | "reset"> {
    if ((await this.register(account, password)) === "created") return "created";
    await this.resetPassword(account, password);
    return "reset";
  }

  register(account: string, password: string): Promise<"created" | "exists"> {
    return this.guard("register", [password], async () => {
      this.checkAccountInput(account, password);
      const registered = await this.nickServ(
        `NS SAREGISTER ${account} :${password}`,
        "NickServ saregister",
        classifySaregister,
      );
      if (registered === "created") {
        this.log.info({ account }, "ergo account created");
        return "created";
      }
      return "exists";
    });
  }

  resetPassword(account: string, password: string): Promise<void> {
    return this.guard("resetPassword", [password], async () => {
      this.checkAccountInput(account, password);
      const changed = await this.nickServ(
        `NS PASSWD ${account} :${password}`,
        "NickServ passwd",
        classifyPasswd,
      );
      if (changed !== "changed") throw new ErgoRejected(`unexpected PASSWD outcome for ${account}`);
      this.log.info({ account }, "ergo account password reset");
    });
  }

  private checkAccountInput(account: string, password: string): void {
    checkName("account", account);
    checkPassword(password);
    // ergo renames whoever holds a nick that becomes an account: never register our own nick
    for (const nick of new Set([this.adminNick, this.session.currentNick])) {
      if (foldName(account) === foldName(nick)) {
        throw new ErgoRejected(
          `account ${account} equals the oper session's nick (ERGO_ADMIN_NICK); ergo would rename the session`,
        );
      }
    }
  }

  unregisterAccount(account: string): Promise<void> {
    return this.guard("unregisterAccount", [], async () => {
      checkName("account", account);
      // The first ERASE answers with a confirmation code; the code is the server's (it changes
      // when ergo restarts), so a reconnect in between may ask once more.
      let line = `NS ERASE ${account}`;
      for (let round = 0; round < 3; round++) {
        const outcome = classifyErase(await this.session.command(line, "NickServ erase"), account);
        this.log.debug({ command: "NickServ erase", outcome: outcome.kind }, "NickServ reply");
        switch (outcome.kind) {
          case "erased":
            this.log.info({ account }, "ergo account erased");
            return;
          case "confirm":
            line = `NS ERASE ${account} ${outcome.code}`;
            continue;
          case "forbidden":
            throw new OperAuthFailed(`NickServ erase refused: ${outcome.reason}`);
          case "failed":
            throw new ErgoUnavailable(`NickServ erase failed: ${outcome.reason}`);
          case "rejected":
            throw new ErgoRejected(outcome.reason);
          case "unknown":
            throw new ErgoRejected(`NickServ erase: ${outcome.reason}`);
        }
      }
      throw new ErgoUnavailable(`NickServ kept asking to confirm the erase of ${account}`);
    });
  }

  checkCredentials(account: string, password: string): Promise<boolean> {
    return this.guard("checkCredentials", [password], async () => {
      checkName("account", account);
      if (password === "") throw new ErgoRejected("the password is empty");
      if (password.includes("\0")) throw new ErgoRejected("the password contains a NUL character");
      const probe = saslPlainProbe({
        host: this.target.host,
        port: this.target.port,
        tls: this.target.tls,
        rejectUnauthorized: this.rejectUnauthorized,
        account,
        password,
        timeoutMs: this.commandTimeoutMs,
        displayUrl: this.target.displayUrl,
      });
      this.probes.add(probe);
      try {
        const ok = await probe;
        this.log.debug({ account, ok }, "ergo SASL check");
        return ok;
      } finally {
        this.probes.delete(probe);
      }
    });
  }

  whois(nick: string): Promise<string | null> {
    return this.guard("whois", [], async () => {
      checkName("nick", nick);
      const lines = await this.session.command(`WHOIS ${nick}`, "whois");
      const account = accountFromWhois(lines, nick);
      this.log.debug({ nick, account }, "ergo WHOIS");
      return account;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session.close();
    await Promise.allSettled([...this.probes]);
  }

  /** Runs one NickServ command and maps its outcome; "exists" and "created" pass through. */
  private async nickServ(
    line: string,
    label: string,
    classify: (lines: Parameters<typeof classifySaregister>[0]) => NickServOutcome,
  ): Promise<"created" | "exists" | "changed"> {
    const lines = await this.session.command(line, label);
    const outcome = classify(lines);
    this.log.debug({ command: label, outcome: outcome.kind }, "NickServ reply");
    switch (outcome.kind) {
      case "created":
      case "exists":
      case "changed":
        return outcome.kind;
      case "forbidden":
        throw new OperAuthFailed(`${label} refused: ${outcome.reason}`);
      case "rejected":
        throw new ErgoRejected(outcome.reason);
      case "unknown":
        throw new ErgoRejected(`${label}: ${outcome.reason}`);
    }
  }

  /**
   * The one exit of every public call: secrets of this call are held by the scrubber while it
   * runs, and whatever is thrown leaves as an ErgoAdminError whose message and stack are scrubbed.
   */
  private async guard<T>(op: string, secrets: string[], fn: () => Promise<T>): Promise<T> {
    const release = this.scrubber.hold(...secrets);
    try {
      if (this.closed) throw new ErgoUnavailable("the ergo admin client is closed");
      return await fn();
    } catch (err) {
      const safe = sanitizeError(err, this.scrubber);
      this.log.debug({ op, err: safe }, "ergo admin call failed");
      throw safe;
    } finally {
      release();
    }
  }
}
