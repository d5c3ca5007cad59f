import type { Socket } from "node:net";
import type { Account } from "./accounts";
import { serializeLine, type SerializeOptions } from "./protocol";

/** One TCP connection. Several sessions can share one User (ergo multiclient). */
export class Session {
  readonly caps = new Set<string>();
  capVersion = 0;
  /** True from CAP LS/REQ until CAP END, as long as registration has not finished. */
  capNegotiating = false;
  preNick: string | null = null;
  userParams: { username: string; realname: string } | null = null;
  /** Account logged into through SASL before registration finished. */
  preAccount: Account | null = null;
  /** AWAY given before registration (ergo 2.15 takes it; applied when the user is created). */
  preAway: string | null = null;
  sasl: { mechanism: string; buffer: string } | null = null;
  user: User | null = null;
  closed = false;
  readonly connectedAt = new Date();
  /** Commands are handled one at a time, in order, even when a handler awaits bcrypt. */
  queue: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly secure: boolean,
    readonly ip: string,
    readonly hostname: string,
  ) {}

  /** The nick used as the target of numerics: `*` until registration has finished. */
  get nick(): string {
    return this.user?.nick ?? "*";
  }

  writeRaw(line: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(line + "\r\n");
  }
}

export interface Membership {
  op: boolean;
  voice: boolean;
  joinedAt: Date;
}

export class User {
  readonly sessions = new Set<Session>();
  readonly channels = new Set<Channel>();
  readonly modes = new Set<string>(["i"]);
  account: Account | null = null;
  oper: string | null = null;
  away: string | null = null;
  readonly signonAt = new Date();
  lastActiveAt = new Date();

  constructor(
    readonly id: number,
    public nick: string,
    public username: string,
    public hostname: string,
    public realname: string,
  ) {}

  get mask(): string {
    return `${this.nick}!${this.username}@${this.hostname}`;
  }

  get secure(): boolean {
    return [...this.sessions].some((s) => s.secure);
  }

  get modeString(): string {
    return "+" + [...this.modes].sort().join("");
  }
}

export class Channel {
  readonly members = new Map<User, Membership>();
  topic = "";
  topicSetBy = "";
  topicSetAt: Date | null = null;
  readonly createdAt = new Date();

  constructor(public name: string) {}

  prefixOf(user: User, multiPrefix: boolean): string {
    const m = this.members.get(user);
    if (!m) return "";
    const all = (m.op ? "@" : "") + (m.voice ? "+" : "");
    return multiPrefix ? all : all.slice(0, 1);
  }
}

export interface OutgoingLine {
  source: string | null;
  command: string;
  params: string[];
  options?: SerializeOptions;
  /** The user a message comes from, for the account-tag cap. */
  from?: User | null;
  /** Client-only tags (`+foo`) relayed for the message-tags cap. */
  clientTags?: Map<string, string>;
}

/** Serialises a line for one session, adding the tags that session negotiated. */
export function renderFor(
  session: Session,
  line: OutgoingLine,
  extraTags: Map<string, string> = new Map(),
): string {
  const tags = new Map<string, string>();
  if (session.caps.has("server-time")) tags.set("time", new Date().toISOString());
  if (session.caps.has("account-tag") && line.from?.account)
    tags.set("account", line.from.account.name);
  if (session.caps.has("message-tags") && line.clientTags) {
    for (const [k, v] of line.clientTags) tags.set(k, v);
  }
  for (const [k, v] of extraTags) tags.set(k, v);
  return serializeLine(line.source, line.command, line.params, { ...line.options, tags });
}

export function sendTo(session: Session, line: OutgoingLine): void {
  session.writeRaw(renderFor(session, line));
}

let batchCounter = 0;

/**
 * The replies to one command from one session (ergo's ResponseBuffer): collected and
 * flushed together so a `@label` can be applied (labeled-response).
 */
export class ResponseBuffer {
  private readonly lines: OutgoingLine[] = [];

  constructor(
    readonly session: Session,
    private readonly serverName: string,
    private readonly label: string | null,
  ) {}

  add(line: OutgoingLine): void {
    this.lines.push(line);
  }

  /** `:<server> <code> <nick> ...params` */
  numeric(code: string, ...params: string[]): void {
    this.add({ source: this.serverName, command: code, params: [this.session.nick, ...params] });
  }

  flush(): void {
    const s = this.session;
    const labelled = this.label !== null && s.caps.has("labeled-response");
    if (!labelled) {
      for (const line of this.lines) sendTo(s, line);
    } else if (this.lines.length === 0) {
      s.writeRaw(
        renderFor(
          s,
          { source: this.serverName, command: "ACK", params: [] },
          new Map([["label", this.label ?? ""]]),
        ),
      );
    } else if (this.lines.length === 1 || !s.caps.has("batch")) {
      const [first, ...rest] = this.lines;
      if (first) s.writeRaw(renderFor(s, first, new Map([["label", this.label ?? ""]])));
      for (const line of rest) sendTo(s, line);
    } else {
      const id = `lr${++batchCounter}`;
      s.writeRaw(
        renderFor(
          s,
          { source: this.serverName, command: "BATCH", params: [`+${id}`, "labeled-response"] },
          new Map([["label", this.label ?? ""]]),
        ),
      );
      for (const line of this.lines) s.writeRaw(renderFor(s, line, new Map([["batch", id]])));
      s.writeRaw(renderFor(s, { source: this.serverName, command: "BATCH", params: [`-${id}`] }));
    }
    this.lines.length = 0;
  }
}
