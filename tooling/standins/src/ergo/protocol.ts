/**
 * IRC line parsing and serialisation (RFC 1459 framing + IRCv3 message tags).
 *
 * Serialisation follows ergo's rule: the last parameter gets a leading `:` only
 * when it needs one (empty, contains a space, or starts with `:`), unless the
 * caller forces it. Real ergo sends `CAP * ACK sasl` and `MODE opuser +o` without
 * a colon, but `311 … * alice` too, so the rule is applied uniformly.
 */

export interface IrcMessage {
  tags: Map<string, string>;
  source: string | null;
  command: string;
  params: string[];
}

const TAG_UNESCAPES: Record<string, string> = { ":": ";", s: " ", "\\": "\\", r: "\r", n: "\n" };

function unescapeTagValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\") {
      const next = value[i + 1];
      i++;
      if (next === undefined) break;
      out += TAG_UNESCAPES[next] ?? next;
    } else {
      out += ch;
    }
  }
  return out;
}

function escapeTagValue(value: string): string {
  return value.replace(/[\\; \r\n]/g, (ch) => {
    switch (ch) {
      case "\\":
        return "\\\\";
      case ";":
        return "\\:";
      case " ":
        return "\\s";
      case "\r":
        return "\\r";
      default:
        return "\\n";
    }
  });
}

/** Parses one line (without CR/LF). Returns null for an empty or command-less line. */
export function parseLine(raw: string): IrcMessage | null {
  let line = raw.replace(/[\r\n]+$/, "");
  const tags = new Map<string, string>();
  if (line.startsWith("@")) {
    const sp = line.indexOf(" ");
    if (sp < 0) return null;
    for (const part of line.slice(1, sp).split(";")) {
      if (!part) continue;
      const eq = part.indexOf("=");
      if (eq < 0) tags.set(part, "");
      else tags.set(part.slice(0, eq), unescapeTagValue(part.slice(eq + 1)));
    }
    line = line.slice(sp + 1);
  }
  line = line.replace(/^ +/, "");
  let source: string | null = null;
  if (line.startsWith(":")) {
    const sp = line.indexOf(" ");
    if (sp < 0) return null;
    source = line.slice(1, sp);
    line = line.slice(sp + 1).replace(/^ +/, "");
  }
  const params: string[] = [];
  let command = "";
  while (line.length > 0) {
    if (command && line.startsWith(":")) {
      params.push(line.slice(1));
      break;
    }
    const sp = line.indexOf(" ");
    const word = sp < 0 ? line : line.slice(0, sp);
    line = sp < 0 ? "" : line.slice(sp + 1).replace(/^ +/, "");
    if (!command) command = word;
    else params.push(word);
  }
  if (!command) return null;
  return { tags, source, command: command.toUpperCase(), params };
}

export interface SerializeOptions {
  tags?: ReadonlyMap<string, string> | Record<string, string>;
  /** Always prefix the last parameter with `:`. */
  forceTrailing?: boolean;
}

export function serializeLine(
  source: string | null,
  command: string,
  params: readonly string[],
  options: SerializeOptions = {},
): string {
  let out = "";
  const tagEntries =
    options.tags instanceof Map ? [...options.tags] : Object.entries(options.tags ?? {});
  if (tagEntries.length > 0) {
    out +=
      "@" +
      tagEntries.map(([k, v]) => (v === "" ? k : `${k}=${escapeTagValue(v)}`)).join(";") +
      " ";
  }
  if (source) out += `:${source} `;
  out += command;
  params.forEach((param, index) => {
    const last = index === params.length - 1;
    if (
      last &&
      (options.forceTrailing || param === "" || param.includes(" ") || param.startsWith(":"))
    ) {
      out += ` :${param}`;
    } else {
      out += ` ${param}`;
    }
  });
  return out;
}

/** Splits a byte stream into lines; tolerates bare LF and CRLF. */
export class LineBuffer {
  private pending = "";

  push(chunk: string): string[] {
    this.pending += chunk;
    const parts = this.pending.split(/\r?\n/);
    this.pending = parts.pop() ?? "";
    return parts.map((p) => p.replace(/\r$/, ""));
  }

  get size(): number {
    return this.pending.length;
  }
}
