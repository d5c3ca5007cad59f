/**
 * IRC line parsing and formatting with the semantics of gopkg.in/irc.v4 (the library soju uses),
 * so the stand-in accepts and emits exactly the bytes soju does (facts/soju.md §7.1, §7.3).
 */

export interface IrcMessage {
  tags?: Record<string, string>;
  prefix?: string;
  /** Upper-cased, as irc.v4 does. */
  command: string;
  params: string[];
}

export type IrcParseError =
  "missing message command" | "no message data after tags" | "no message data after prefix";

export class IrcParseFailure extends Error {
  constructor(readonly reason: IrcParseError) {
    super(`irc: ${reason}`);
  }
}

/** irc.v4 `ParseMessage` for a line without its trailing CR/LF. Throws IrcParseFailure. */
export function parseIrcLine(input: string): IrcMessage {
  let line = input.replace(/[\r\n]+$/, "");
  const message: IrcMessage = { command: "", params: [] };
  if (line.startsWith("@")) {
    const space = line.indexOf(" ");
    if (space === -1) throw new IrcParseFailure("no message data after tags");
    message.tags = parseTags(line.slice(1, space));
    line = line.slice(space + 1);
    // irc.v4 indexes line[0] here; an empty rest panics, which soju recovers from by closing.
    if (line.length === 0) throw new IrcParseFailure("missing message command");
  }
  if (line.startsWith(":")) {
    const space = line.indexOf(" ");
    if (space === -1) throw new IrcParseFailure("no message data after prefix");
    message.prefix = line.slice(1, space);
    line = line.slice(space + 1);
  }
  const trailingAt = line.indexOf(" :");
  const head = trailingAt === -1 ? line : line.slice(0, trailingAt);
  const params = head.split(" ").filter((word) => word.length > 0);
  if (params.length === 0) throw new IrcParseFailure("missing message command");
  if (trailingAt !== -1) params.push(line.slice(trailingAt + 2));
  message.command = (params.shift() ?? "").toUpperCase();
  message.params = params;
  return message;
}

function parseTags(raw: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of raw.split(";")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : part.slice(eq + 1);
    tags[key] = value.replace(
      /\\(.)/g,
      (_m, c: string) => ({ ":": ";", s: " ", r: "\r", n: "\n" })[c] ?? c,
    );
  }
  return tags;
}

/**
 * irc.v4 `Message.String()`: the last parameter gets a ':' only when it is empty, contains a space
 * or starts with ':' (which is why soju answers `BOUNCERSERV OK`, not `BOUNCERSERV :OK`).
 */
export function formatIrcMessage(
  message: Pick<IrcMessage, "prefix" | "command" | "params">,
): string {
  let out = message.prefix ? `:${message.prefix} ${message.command}` : message.command;
  message.params.forEach((param, index) => {
    const last = index === message.params.length - 1;
    if (last && (param === "" || param.includes(" ") || param.startsWith(":"))) out += ` :${param}`;
    else out += ` ${param}`;
  });
  return out;
}

/**
 * Splits a byte stream into lines like irc.v4's reader: up to LF, trailing CR/LF stripped,
 * empty lines skipped. No length limit.
 */
export class LineSplitter {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf(0x0a, start);
      if (lf === -1) break;
      const line = this.buffer
        .subarray(start, lf)
        .toString("utf8")
        .replace(/[\r\n]+$/, "");
      start = lf + 1;
      if (line.length > 0) lines.push(line);
    }
    this.buffer = this.buffer.subarray(start);
    return lines;
  }
}
