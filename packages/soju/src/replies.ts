/**
 * Reading soju's answers (facts/soju.md §7.3–§7.5): admin-socket reply lines as IRC messages, and
 * the texts BouncerServ prints for the commands this package uses. Pure functions, no I/O.
 */
import type { NetworkStatus, SaslState, SaslStatus } from "./port";
import { SojuCommandFailed, SojuUnavailable } from "./port";

export interface IrcMessage {
  prefix?: string;
  command: string;
  params: string[];
}

/**
 * Parses one IRC line (without CRLF) like gopkg.in/irc.v4: optional `@tags`, optional `:prefix`,
 * the command (upper-cased), middle params, and a trailing param after ` :`. Returns undefined
 * for an empty or unparseable line.
 */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let rest = line.replace(/[\r\n]+$/, "");
  if (rest.startsWith("@")) {
    const space = rest.indexOf(" ");
    if (space === -1) return undefined;
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  let prefix: string | undefined;
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    if (space === -1) return undefined;
    prefix = rest.slice(1, space);
    rest = rest.slice(space + 1).replace(/^ +/, "");
  }
  const params: string[] = [];
  let command: string | undefined;
  while (rest.length > 0) {
    if (command !== undefined && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space === -1 ? rest : rest.slice(0, space);
    rest = space === -1 ? "" : rest.slice(space + 1).replace(/^ +/, "");
    if (command === undefined) command = word.toUpperCase();
    else params.push(word);
  }
  if (command === undefined || command === "") return undefined;
  return prefix === undefined ? { command, params } : { prefix, command, params };
}

/** The end of one command's reply group. */
export type Terminal =
  | { kind: "ok" }
  | { kind: "fail"; text: string }
  | { kind: "numeric"; code: string; text: string }
  | { kind: "error"; text: string };

export interface Reply {
  /** The trailing texts of the `PRIVMSG *` lines, in order. */
  lines: string[];
  terminal: Terminal;
}

/**
 * Collects one reply group (§7.3): `PRIVMSG *` trailings until the first line whose command is
 * `BOUNCERSERV`, `FAIL`, `ERROR` or a 3-digit numeric. Other lines are ignored.
 */
export class ReplyCollector {
  private lines: string[] = [];

  /** Feeds one raw line; returns the finished reply when `line` was the terminal one. */
  push(line: string): Reply | undefined {
    const message = parseIrcLine(line);
    if (!message) return undefined;
    const last = message.params[message.params.length - 1] ?? "";
    let terminal: Terminal | undefined;
    switch (message.command) {
      case "PRIVMSG":
        this.lines.push(message.params[1] ?? "");
        return undefined;
      case "BOUNCERSERV":
        terminal = { kind: "ok" };
        break;
      case "FAIL":
        // Only two params (`FAIL BOUNCERSERV :<text>`): take the last one.
        terminal = { kind: "fail", text: last };
        break;
      case "ERROR":
        terminal = { kind: "error", text: last };
        break;
      default:
        if (/^\d{3}$/.test(message.command))
          terminal = { kind: "numeric", code: message.command, text: last };
    }
    if (!terminal) return undefined;
    const reply = { lines: this.lines, terminal };
    this.lines = [];
    return reply;
  }

  /** Output lines collected so far (for an EOF before the terminal line). */
  get partial(): readonly string[] {
    return this.lines;
  }
}

/** A finished reply → its output lines, or the typed error (FAIL/numeric → refused, ERROR → unavailable). */
export function replyOutput(reply: Reply): string[] {
  const t = reply.terminal;
  switch (t.kind) {
    case "ok":
      return reply.lines;
    case "fail":
      throw new SojuCommandFailed(t.text);
    case "numeric":
      throw new SojuCommandFailed(`${t.code} ${t.text}`);
    case "error":
      throw new SojuUnavailable(`soju closed the admin connection: ERROR ${t.text}`);
  }
}

/** Decodes a Go `%q` / strconv.Quote literal body (without the surrounding quotes). */
export function goUnquote(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/gs,
    (_m, esc: string) => {
      switch (esc[0]) {
        case "a":
          return "\x07";
        case "b":
          return "\b";
        case "f":
          return "\f";
        case "n":
          return "\n";
        case "r":
          return "\r";
        case "t":
          return "\t";
        case "v":
          return "\v";
        case "x":
        case "u":
        case "U":
          if (esc.length > 1) return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
          return esc;
        default:
          if (/^[0-7]{3}$/.test(esc)) return String.fromCodePoint(Number.parseInt(esc, 8));
          return esc;
      }
    },
  );
}

/** A Go-quoted string: `"…"` with backslash escapes. */
const GO_QUOTED = String.raw`"((?:[^"\\]|\\.)*)"`;

const CREATED_NETWORK = new RegExp(`^created network ${GO_QUOTED}$`);
const UPDATED_NETWORK = new RegExp(`^updated network ${GO_QUOTED}$`);
const NETWORK_EXISTS = new RegExp(`a network with the name ${GO_QUOTED} already exists`);
const USER_EXISTS = new RegExp(`could not create user: user ${GO_QUOTED} already exists`);
const SASL_PLAIN = new RegExp(`^SASL PLAIN enabled with username ${GO_QUOTED}$`);
const SASL_AUTHENTICATED = new RegExp(
  `^Authenticated on upstream network with account ${GO_QUOTED}$`,
);

/** `created network "x"` → `x`. */
export function parseCreatedNetwork(line: string): string | undefined {
  const m = CREATED_NETWORK.exec(line);
  return m ? goUnquote(m[1] ?? "") : undefined;
}

/** `updated network "x"` → `x`. */
export function parseUpdatedNetwork(line: string): string | undefined {
  const m = UPDATED_NETWORK.exec(line);
  return m ? goUnquote(m[1] ?? "") : undefined;
}

/** `could not create network: a network with the name "x" already exists` → `x`. */
export function parseNetworkExists(failText: string): string | undefined {
  const m = NETWORK_EXISTS.exec(failText);
  return m ? goUnquote(m[1] ?? "") : undefined;
}

/** `could not create user: user "x" already exists` → `x`. */
export function parseUserExists(failText: string): string | undefined {
  const m = USER_EXISTS.exec(failText);
  return m ? goUnquote(m[1] ?? "") : undefined;
}

export interface ParsedSaslStatus {
  /** The mechanism line was seen. */
  mechanismSeen: boolean;
  plainUsername: string | null;
  /** Undefined when no state line arrived (soju v0.7.0 may drop it over `user run`, §7.4). */
  state: SaslState | undefined;
  /** Lines that matched nothing we know. */
  unrecognized: string[];
}

/**
 * `sasl status` output: a mechanism line (`SASL PLAIN enabled with username "<u>"`,
 * `SASL EXTERNAL (CertFP) enabled`, `SASL is disabled`) and a state line (`Authenticated on
 * upstream network with account "<a>"`, `Unauthenticated on upstream network`, `Disconnected
 * from upstream network`).
 */
export function parseSaslStatus(lines: readonly string[]): ParsedSaslStatus {
  const out: ParsedSaslStatus = {
    mechanismSeen: false,
    plainUsername: null,
    state: undefined,
    unrecognized: [],
  };
  for (const line of lines) {
    const plain = SASL_PLAIN.exec(line);
    const authenticated = SASL_AUTHENTICATED.exec(line);
    if (plain) {
      out.mechanismSeen = true;
      out.plainUsername = goUnquote(plain[1] ?? "");
    } else if (line === "SASL EXTERNAL (CertFP) enabled" || line === "SASL is disabled") {
      out.mechanismSeen = true;
    } else if (authenticated) {
      out.state = { kind: "authenticated", account: goUnquote(authenticated[1] ?? "") };
    } else if (line === "Unauthenticated on upstream network") {
      out.state = { kind: "unauthenticated" };
    } else if (line === "Disconnected from upstream network") {
      out.state = { kind: "disconnected" };
    } else {
      out.unrecognized.push(line);
    }
  }
  return out;
}

/** The final SaslStatus of a parse; `unknown` (with what we saw) when no state line arrived. */
export function saslStatusOf(parsed: ParsedSaslStatus): SaslStatus {
  if (parsed.state) return { plainUsername: parsed.plainUsername, state: parsed.state };
  const detail =
    parsed.unrecognized.length > 0
      ? `unrecognized sasl status output: ${parsed.unrecognized.join(" / ")}`
      : "soju did not report the upstream state (soju v0.7.0 can drop the last line of a user run reply)";
  return { plainUsername: parsed.plainUsername, state: { kind: "unknown", detail } };
}

const STATUS_WORD = String.raw`(?:connected(?: as [^\],]+)?|disconnected|disabled|current)`;
const NETWORK_LINE = new RegExp(
  String.raw`^(.*) \[(${STATUS_WORD}(?:, ${STATUS_WORD})*)\](?:: (.*))?$`,
);

/**
 * One `network status` line: `name (addr) [connected]: N channels`, `name (addr) [disabled]`,
 * `name (addr) [disconnected]: connection error: …`; `(addr)` is left out when the name is the
 * addr; `current` and `connected as <nick>` may appear in the brackets. Undefined for other
 * lines (e.g. `No network configured, …`).
 */
export function parseNetworkStatusLine(line: string): NetworkStatus | undefined {
  const m = NETWORK_LINE.exec(line);
  if (!m) return undefined;
  const head = m[1] ?? "";
  const statuses = (m[2] ?? "").split(", ");
  const details = m[3];
  let name = head;
  let addr = head;
  const open = head.lastIndexOf(" (");
  if (head.endsWith(")") && open > 0) {
    name = head.slice(0, open);
    addr = head.slice(open + 2, -1);
  }
  const state: NetworkStatus["state"] = statuses.some((s) => s.startsWith("connected"))
    ? "connected"
    : statuses.includes("disabled")
      ? "disabled"
      : statuses.includes("disconnected")
        ? "disconnected"
        : "unknown";
  const status: NetworkStatus = { name, addr, state };
  if (state === "connected" && details !== undefined) {
    const channels = /^(\d+) channels?$/.exec(details);
    if (channels) status.channels = Number(channels[1]);
  } else if (details !== undefined && details !== "") {
    status.error = details;
  }
  return status;
}

/** `network status` output → one entry per recognized line (others are skipped). */
export function parseNetworkStatus(lines: readonly string[]): NetworkStatus[] {
  return lines.flatMap((line) => {
    const status = parseNetworkStatusLine(line);
    return status ? [status] : [];
  });
}

/** Go's `log` prefix (`2026/11/22 23:12:32 `) that sojuctl before v0.9.0 puts on stderr (§7.7). */
export function stripGoLogTimestamp(line: string): string {
  return line.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? /, "");
}
