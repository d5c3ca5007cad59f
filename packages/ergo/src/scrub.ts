/**
 * Removes secrets from any text that may end up in a log line or an error: the configured ones
 * (oper password, API token) permanently, users' passwords for the duration of the call that
 * carries them. Shapes of outgoing commands that carry a secret are masked too, whatever the
 * value, as a second line of defence (case-sensitive: the commands as we send them, so that
 * English words like "oper session ready" stay readable).
 */

const REDACTED = "[redacted]";

const SECRET_SHAPES: ReadonlyArray<[RegExp, string]> = [
  // OPER <name> <password>
  [/\b(OPER\s+\S+\s+):?\S+/g, `$1${REDACTED}`],
  // (NS|NICKSERV|PRIVMSG NickServ :) SAREGISTER|PASSWD|IDENTIFY <account> <password…>
  [/\b(SAREGISTER|PASSWD|PASSWORD|IDENTIFY)(\s+\S+\s+):?\S+/g, `$1$2${REDACTED}`],
  // AUTHENTICATE <base64 payload> (but not the mechanism name or "+")
  [/\b(AUTHENTICATE\s+)(?!PLAIN\b|EXTERNAL\b|\+(?:\s|$)|\*(?:\s|$))\S+/g, `$1${REDACTED}`],
  // Authorization: Bearer <token>
  [/\b(Bearer\s+)\S+/gi, `$1${REDACTED}`],
];

export class Scrubber {
  private readonly permanent: string[];
  private readonly transient = new Map<string, number>();

  constructor(permanentSecrets: ReadonlyArray<string | undefined>) {
    this.permanent = permanentSecrets.filter((s): s is string => typeof s === "string" && s !== "");
  }

  /** Registers secrets until the returned function is called (reference-counted). */
  hold(...secrets: string[]): () => void {
    const added = secrets.filter((s) => s !== "");
    for (const s of added) this.transient.set(s, (this.transient.get(s) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of added) {
        const n = (this.transient.get(s) ?? 1) - 1;
        if (n <= 0) this.transient.delete(s);
        else this.transient.set(s, n);
      }
    };
  }

  private secrets(): string[] {
    const all = new Set<string>(this.permanent);
    for (const s of this.transient.keys()) {
      all.add(s);
      // the SASL PLAIN payload and common encodings of the secret
      all.add(Buffer.from(s, "utf8").toString("base64"));
      all.add(encodeURIComponent(s));
      all.add(JSON.stringify(s).slice(1, -1));
    }
    for (const s of this.permanent) {
      all.add(encodeURIComponent(s));
      all.add(JSON.stringify(s).slice(1, -1));
    }
    // longest first, so a secret containing another is removed whole
    return [...all].filter((s) => s !== "").sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.secrets()) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const [shape, replacement] of SECRET_SHAPES) out = out.replace(shape, replacement);
    return out;
  }

  /** Scrubs every string inside a plain value (objects, arrays, errors), to a bounded depth. */
  scrubValue(value: unknown, depth = 0): unknown {
    if (typeof value === "string") return this.scrub(value);
    if (value === null || typeof value !== "object") return value;
    if (depth > 5) return "[truncated]";
    if (value instanceof Error) {
      const out: Record<string, unknown> = {
        type: value.name,
        message: this.scrub(value.message),
      };
      if ("code" in value && typeof value.code === "string") out.code = value.code;
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => this.scrubValue(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.scrubValue(v, depth + 1);
    return out;
  }
}
