import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import {
  formatIrcMessage,
  IrcParseFailure,
  LineSplitter,
  parseIrcLine,
  type IrcMessage,
} from "./irc";
import { goQuote } from "./words";

/** Where a network's `addr` points (facts/soju.md §4). */
export type UpstreamTarget =
  | { kind: "tcp"; tls: boolean; host: string; port: number; hostPort: string }
  | { kind: "unix"; path: string };

/** The parts of a URL that soju looks at, as Go's net/url parses them. */
export interface GoUrl {
  scheme: string;
  userinfo: string | null;
  /** `host[:port]` */
  host: string;
  hostname: string;
  port: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

class GoUrlError extends Error {}

/** Go's unescape: the first malformed `%` escape is an error (`invalid URL escape "%zz"`). */
function checkEscapes(text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "%") continue;
    if (!/^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3)))
      throw new GoUrlError(`invalid URL escape ${goQuote(text.slice(i, i + 3))}`);
    i += 2;
  }
}

/** Go's parseHost: brackets, the port (digits only, range not checked), the host's characters. */
function parseGoHost(host: string): { hostname: string; port: string } {
  let hostname = host;
  let port = "";
  if (host.startsWith("[")) {
    const close = host.lastIndexOf("]");
    if (close < 0) throw new GoUrlError("missing ']' in host");
    const rest = host.slice(close + 1);
    if (rest !== "" && !/^:[0-9]*$/.test(rest))
      throw new GoUrlError(`invalid port ${goQuote(rest)} after host`);
    hostname = host.slice(1, close);
    port = rest.slice(1);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) {
      const rest = host.slice(colon);
      if (!/^:[0-9]*$/.test(rest)) throw new GoUrlError(`invalid port ${goQuote(rest)} after host`);
      hostname = host.slice(0, colon);
      port = rest.slice(1);
    }
    for (const ch of hostname) {
      // eslint-disable-next-line no-control-regex -- Go refuses control characters in a host name
      if (/[\x00-\x20\x7f"<>\\^`{|}]/.test(ch))
        throw new GoUrlError(`invalid character ${goQuote(ch)} in host name`);
    }
  }
  checkEscapes(hostname);
  return { hostname, port };
}

/**
 * database.Network.URL(): Go's url.Parse of `addr`, where a bare `host[:port]` means `ircs://`.
 * Errors carry Go's texts (seen on soju 0.10.1), e.g. `parse "irc+insecure://a b": invalid
 * character " " in host name`, `… invalid port ":6667x" after host`, `… invalid URL escape "%"`.
 */
export function parseNetworkUrl(addr: string): GoUrl {
  const s = addr.includes("://") ? addr : `ircs://${addr}`;
  try {
    let rest = s;
    let fragment = "";
    const hash = rest.indexOf("#");
    if (hash >= 0) {
      fragment = rest.slice(hash + 1);
      rest = rest.slice(0, hash);
    }
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
    if (!scheme) throw new GoUrlError("missing protocol scheme");
    rest = rest.slice(scheme[0].length);
    let rawQuery = "";
    const q = rest.indexOf("?");
    if (q >= 0) {
      rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
    let authority = "";
    if (rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      rest = slash < 0 ? "" : rest.slice(slash);
    }
    const at = authority.lastIndexOf("@");
    const userinfo = at < 0 ? null : authority.slice(0, at);
    const host = at < 0 ? authority : authority.slice(at + 1);
    const { hostname, port } = parseGoHost(host);
    checkEscapes(rest);
    return {
      scheme: (scheme[1] ?? "").toLowerCase(),
      userinfo,
      host,
      hostname,
      port,
      path: decodeURIComponent(rest),
      rawQuery,
      fragment,
    };
  } catch (error) {
    const reason = error instanceof GoUrlError ? error.message : "invalid URL";
    throw new Error(`failed to parse upstream server URL: parse ${goQuote(s)}: ${reason}`);
  }
}

/** user.checkNetwork's URL checks, with soju's texts. */
export function checkNetworkAddr(addr: string, userIsAdmin = true): void {
  const url = parseNetworkUrl(addr);
  const scheme = url.scheme;
  if (url.userinfo !== null)
    throw new Error(`${scheme}:// URL must not have username and password information`);
  if (url.rawQuery) throw new Error(`${scheme}:// URL must not have query values`);
  if (url.fragment) throw new Error(`${scheme}:// URL must not have a fragment`);
  switch (scheme) {
    case "ircs":
    case "irc+insecure":
      if (!url.host) throw new Error(`${scheme}:// URL must have a host`);
      if (url.path) throw new Error(`${scheme}:// URL must not have a path`);
      break;
    case "irc+unix":
    case "unix":
      if (url.host) throw new Error(`${scheme}:// URL must not have a host`);
      if (!url.path) throw new Error(`${scheme}:// URL must have a path`);
      // seen on soju 0.10.1 (`user run <non-admin> network create -addr unix:///…`)
      if (!userIsAdmin) throw new Error("non-admin users cannot add networks with a unix address");
      break;
    default:
      throw new Error(`unknown URL scheme ${goQuote(scheme)}`);
  }
}

export function upstreamTarget(addr: string): UpstreamTarget {
  const url = parseNetworkUrl(addr);
  const scheme = url.scheme;
  if (scheme === "unix" || scheme === "irc+unix") return { kind: "unix", path: url.path };
  const secure = scheme === "ircs";
  const port = url.port ? Number(url.port) : secure ? 6697 : 6667;
  const hostPort = url.port ? url.host : `${url.host}:${port}`;
  return { kind: "tcp", tls: secure, host: url.hostname, port, hostPort };
}

const errnoTexts: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  ECONNRESET: "connection reset by peer",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENOTSOCK: "socket operation on non-socket",
  EPIPE: "broken pipe",
};

/** The first `nameserver` of /etc/resolv.conf, which Go names in its lookup errors. */
function resolver(): string | null {
  try {
    const line = /^\s*nameserver\s+(\S+)/m.exec(readFileSync("/etc/resolv.conf", "utf8"));
    if (!line?.[1]) return null;
    return line[1].includes(":") ? `[${line[1]}]:53` : `${line[1]}:53`;
  } catch {
    return null;
  }
}

/** A dial error in soju 0.10.1's words (seen): `dial tcp 127.0.0.1:1: connect: connection refused`. */
export function goDialError(
  target: UpstreamTarget,
  error: NodeJS.ErrnoException & { address?: string; port?: number },
): string {
  const code = error.code ?? "";
  if (target.kind === "unix") {
    return `failed to connect to Unix socket ${goQuote(target.path)}: dial unix ${target.path}: connect: ${errnoTexts[code] ?? error.message}`;
  }
  if (code === "ENOTFOUND" || code.startsWith("EAI_")) {
    const ns = resolver();
    const why = code === "ENOTFOUND" ? "no such host" : error.message;
    return `dial tcp: lookup ${target.host}${ns ? ` on ${ns}` : ""}: ${why}`;
  }
  if (code in errnoTexts) {
    const address = error.address ?? target.host;
    const hostPort = `${address.includes(":") ? `[${address}]` : address}:${error.port ?? target.port}`;
    return `dial tcp ${hostPort}: connect: ${errnoTexts[code]}`;
  }
  return error.message;
}

/** A TLS failure: Go's handshake runs on the first read, after a successful dial (seen). */
function goTlsError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? "";
  if (
    [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      "UNABLE_TO_GET_ISSUER_CERT",
      "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    ].includes(code)
  )
    return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
  return `tls: ${error.message}`;
}

export interface UpstreamParams {
  addr: string;
  nick: string;
  username: string;
  realname: string;
  pass: string;
  sasl: { mechanism: "" | "PLAIN" | "EXTERNAL"; username: string; password: string };
  /** Saved channels to join after registration (name → key). */
  channels: ReadonlyArray<{ name: string; key: string }>;
  connectCommands: readonly string[];
  /** Connect + registration deadline (soju: one minute). */
  timeoutMs: number;
  /** Auto-away right after registration (no downstream connected): `AWAY :Auto away` or `AWAY *`. */
  awayOnRegister: boolean;
  log: (line: string) => void;
}

export interface UpstreamResult {
  /** soju's error text without the `connection error: ` prefix; null for a clean end. */
  error: string | null;
  registered: boolean;
}

/** The caps soju would use that are harmless for a client that does not relay messages. */
const wantedCaps = new Set([
  "sasl",
  "server-time",
  "message-tags",
  "multi-prefix",
  "away-notify",
  "account-notify",
  "extended-join",
  "cap-notify",
  "setname",
  "chghost",
  "invite-notify",
  "account-tag",
]);

const registrationFailures = new Set(["432", "464", "465", "466"]);

const ircLower = (s: string): string =>
  s.replace(
    /[A-Z[\]\\~]/g,
    (c) => ({ "[": "{", "]": "}", "\\": "|", "~": "^" })[c] ?? c.toLowerCase(),
  );

/**
 * One upstream connection of a network: soju's connectToUpstream + register + runUntilRegistered +
 * readMessages, reduced to what the bouncer's state needs (nick, account, joined channels).
 */
export class UpstreamConn {
  nick: string;
  account = "";
  registered = false;
  readonly caps = new Set<string>();
  /** Joined channels (casemapped → name). */
  readonly channels = new Map<string, string>();
  chantypes = "#&";
  /** Called once when 001 arrives. */
  onRegistered: (() => void) | undefined;
  readonly done: Promise<UpstreamResult>;

  private socket: net.Socket | undefined;
  private finish!: (result: UpstreamResult) => void;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private availableCaps = new Map<string, string>();

  /**
   * soju's auto-away text: `*` when the server offers draft/pre-away (ergo 2.15 does; it then
   * does not show the user as away), else `Auto away`.
   */
  get autoAwayReason(): string {
    return this.availableCaps.has("draft/pre-away") ? "*" : "Auto away";
  }
  private saslStarted = false;
  private capEnded = false;

  constructor(private readonly params: UpstreamParams) {
    this.nick = params.nick;
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.connect();
  }

  channelKey(name: string): string {
    return ircLower(name);
  }

  isChannel(name: string): boolean {
    return name.length > 0 && this.chantypes.includes(name[0] ?? "");
  }

  send(message: Pick<IrcMessage, "command" | "params">): void {
    if (this.finished || !this.socket || this.socket.destroyed) return;
    this.socket.write(`${formatIrcMessage(message)}\r\n`);
  }

  sendRaw(line: string): void {
    if (this.finished || !this.socket || this.socket.destroyed) return;
    this.socket.write(`${line}\r\n`);
  }

  /** Closes the connection (network stopped/updated): a clean end, no error recorded. */
  close(): void {
    if (this.finished) return;
    this.socket?.destroy();
    this.end(null);
  }

  private end(error: string | null): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.finish({ error, registered: this.registered });
  }

  private connect(): void {
    let target: UpstreamTarget;
    try {
      target = upstreamTarget(this.params.addr);
    } catch (error) {
      queueMicrotask(() =>
        this.end(`failed to connect: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    if (target.kind === "tcp" && target.port > 65535) {
      const port = target.port;
      queueMicrotask(() => this.end(`failed to connect: dial tcp: address ${port}: invalid port`));
      return;
    }
    let connected = false;
    /** TCP is up (for TLS: the handshake may still fail, on the first read). */
    let dialed = false;
    this.timer = setTimeout(() => {
      if (!connected) {
        const where = target.kind === "unix" ? `unix ${target.path}` : `tcp ${target.hostPort}`;
        this.end(`failed to connect: dial ${where}: i/o timeout`);
      } else {
        this.end("failed to register: context deadline exceeded");
      }
    }, this.params.timeoutMs);
    let socket: net.Socket;
    try {
      socket =
        target.kind === "unix"
          ? net.connect({ path: target.path })
          : target.tls
            ? tls.connect({
                host: target.host,
                port: target.port,
                servername: net.isIP(target.host) ? undefined : target.host,
              })
            : net.connect({ host: target.host, port: target.port });
    } catch (error) {
      queueMicrotask(() =>
        this.end(`failed to connect: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    this.socket = socket;
    socket.setNoDelay?.(true);
    const onConnect = () => {
      connected = true;
      this.register();
    };
    if (target.kind === "tcp" && target.tls) {
      socket.once("connect", () => {
        dialed = true;
      });
      socket.once("secureConnect", onConnect);
    } else socket.once("connect", onConnect);
    const splitter = new LineSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        if (this.finished) return;
        let message: IrcMessage;
        try {
          message = parseIrcLine(line);
        } catch (error) {
          if (error instanceof IrcParseFailure) continue;
          throw error;
        }
        this.handle(message);
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected && dialed)
        this.end(`failed to register: failed to read message: ${goTlsError(error)}`);
      else if (!connected) this.end(`failed to connect: ${goDialError(target, error)}`);
      else if (!this.registered)
        this.end(`failed to register: read: ${errnoTexts[error.code ?? ""] ?? error.message}`);
      else
        this.end(
          `failed to handle messages: read: ${errnoTexts[error.code ?? ""] ?? error.message}`,
        );
    });
    socket.on("close", () => {
      if (!this.registered) this.end("failed to register: EOF");
      else this.end(null);
    });
  }

  private register(): void {
    const p = this.params;
    this.send({ command: "CAP", params: ["LS", "302"] });
    if (p.pass) this.send({ command: "PASS", params: [p.pass] });
    this.send({ command: "NICK", params: [this.nick] });
    this.send({ command: "USER", params: [p.username, "0", "*", p.realname] });
  }

  private endCap(): void {
    if (this.capEnded || this.registered) return;
    this.capEnded = true;
    this.send({ command: "CAP", params: ["END"] });
  }

  private handle(message: IrcMessage): void {
    const p = message.params;
    const source = (message.prefix ?? "").split("!")[0] ?? "";
    const isSelf = source !== "" && ircLower(source) === ircLower(this.nick);
    switch (message.command) {
      case "PING":
        this.send({ command: "PONG", params: p });
        return;
      case "CAP":
        this.handleCap(p);
        return;
      case "AUTHENTICATE":
        if (p[0] === "+" && this.saslStarted) this.sendSaslResponse();
        return;
      case "900": // RPL_LOGGEDIN
        this.account = p[2] ?? "";
        this.params.log(`logged in with account ${goQuote(this.account)}`);
        return;
      case "901": // RPL_LOGGEDOUT
        this.account = "";
        return;
      case "903":
        this.endCap();
        return;
      case "902":
      case "904":
      case "905":
      case "906":
        this.params.log(`SASL authentication failed: ${p[p.length - 1] ?? ""}`);
        this.endCap();
        return;
      case "433": // ERR_NICKNAMEINUSE
      case "437":
        if (!this.registered) {
          this.nick = `${this.nick}_`;
          this.params.log(`desired nick is not available, falling back to ${goQuote(this.nick)}`);
          this.send({ command: "NICK", params: [this.nick] });
        }
        return;
      case "001":
        if (this.registered) return;
        this.registered = true;
        this.nick = p[0] ?? this.nick;
        clearTimeout(this.timer);
        this.params.log(`connection registered with nick ${goQuote(this.nick)}`);
        this.afterRegistration();
        this.onRegistered?.();
        return;
      case "005":
        for (const token of p.slice(1, -1)) {
          const [key, value] = token.split("=", 2);
          if (key === "CHANTYPES" && value !== undefined) this.chantypes = value;
        }
        return;
      case "ERROR":
        if (!this.registered) this.end(`failed to register: fatal server error: ${p[0] ?? ""}`);
        else this.end(null);
        return;
      case "NICK":
        if (isSelf && p[0]) this.nick = p[0];
        return;
      case "ACCOUNT":
        if (isSelf) this.account = p[0] === "*" ? "" : (p[0] ?? "");
        return;
      case "JOIN":
        if (isSelf && p[0])
          for (const name of p[0].split(",")) this.channels.set(ircLower(name), name);
        return;
      case "PART":
        if (isSelf && p[0])
          for (const name of p[0].split(",")) this.channels.delete(ircLower(name));
        return;
      case "KICK":
        if (p[1] && ircLower(p[1]) === ircLower(this.nick) && p[0])
          this.channels.delete(ircLower(p[0]));
        return;
      default:
        if (!this.registered && registrationFailures.has(message.command)) {
          this.end(`failed to register: ${p[p.length - 1] ?? message.command}`);
        }
    }
  }

  private handleCap(p: string[]): void {
    const sub = (p[1] ?? "").toUpperCase();
    if (sub === "LS") {
      const more = p[2] === "*";
      for (const item of (p[p.length - 1] ?? "").split(" ").filter(Boolean)) {
        const eq = item.indexOf("=");
        this.availableCaps.set(
          eq === -1 ? item : item.slice(0, eq),
          eq === -1 ? "" : item.slice(eq + 1),
        );
      }
      if (more || this.registered) return;
      const request = [...this.availableCaps.keys()].filter(
        (cap) => wantedCaps.has(cap) && (cap !== "sasl" || this.saslWanted()),
      );
      if (request.length > 0) this.send({ command: "CAP", params: ["REQ", request.join(" ")] });
      else this.endCap();
      return;
    }
    if (sub === "ACK") {
      for (const cap of (p[p.length - 1] ?? "").split(" ").filter(Boolean)) {
        if (cap.startsWith("-")) this.caps.delete(cap.slice(1));
        else this.caps.add(cap);
      }
      if (this.registered) return;
      if (this.caps.has("sasl") && this.saslWanted() && !this.saslStarted) {
        this.saslStarted = true;
        const mechanism = this.params.sasl.mechanism;
        if (mechanism === "PLAIN")
          this.params.log(
            `starting SASL PLAIN authentication with username ${goQuote(this.params.sasl.username)}`,
          );
        this.send({ command: "AUTHENTICATE", params: [mechanism] });
        return;
      }
      this.endCap();
      return;
    }
    if (sub === "NAK") {
      this.endCap();
    }
  }

  private saslWanted(): boolean {
    const { mechanism } = this.params.sasl;
    if (mechanism === "") return false;
    const offered = this.availableCaps.get("sasl");
    return offered === undefined || offered === "" || offered.split(",").includes(mechanism);
  }

  private sendSaslResponse(): void {
    const { mechanism, username, password } = this.params.sasl;
    if (mechanism !== "PLAIN") {
      // EXTERNAL needs a client certificate, which the stand-in does not present.
      this.send({ command: "AUTHENTICATE", params: ["+"] });
      return;
    }
    const encoded = Buffer.from(`\0${username}\0${password}`, "utf8").toString("base64");
    for (let i = 0; i < encoded.length; i += 400)
      this.send({ command: "AUTHENTICATE", params: [encoded.slice(i, i + 400)] });
    if (encoded.length % 400 === 0) this.send({ command: "AUTHENTICATE", params: ["+"] });
  }

  private afterRegistration(): void {
    for (const command of this.params.connectCommands) this.sendRaw(command);
    if (this.params.awayOnRegister) this.send({ command: "AWAY", params: [this.autoAwayReason] });
    for (const channel of this.params.channels) {
      this.send({
        command: "JOIN",
        params: channel.key ? [channel.name, channel.key] : [channel.name],
      });
    }
  }
}
