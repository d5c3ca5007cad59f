/**
 * Keeping passwords out of log lines and error texts. The secrets of a command are found in its
 * words by shape (the value of `-password`/`-pass`, sasl set-plain's password), whatever the
 * caller is; every text that may carry them is scrubbed of their plain and encoded forms.
 */
import { SojuCommandFailed, SojuInvalidArgument, SojuUnavailable, SojuUnsupported } from "./port";
import { quoteWord } from "./words";

export const REDACTED = "[redacted]";

/**
 * Flags whose value is a secret (`user create/update -password`, `network create/update -pass`,
 * and `-connect-command`: a raw line that may carry a channel key or a NickServ IDENTIFY).
 */
const SECRET_FLAGS = new Set(["password", "pass", "connect-command"]);

function flagName(word: string): string | undefined {
  const m = /^--?([a-z][a-z-]*)(?:=|$)/.exec(word);
  return m?.[1];
}

/** Indexes of the secret words of a BouncerServ command (also inside `user run <u> …`). */
export function secretIndexes(words: readonly string[]): Set<number> {
  const secret = new Set<number>();
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    const name = flagName(word);
    if (name !== undefined && SECRET_FLAGS.has(name)) {
      // `-password=x` carries its value; `-password x` takes the next word.
      if (!word.includes("=")) secret.add(i + 1);
      else secret.add(i);
    }
    // `sasl set-plain [-network n] [--] <username> <password>`: the password is the last word.
    if (/^sa/.test(word) && /^set-p/.test(words[i + 1] ?? "") && words.length > i + 2)
      secret.add(words.length - 1);
  }
  for (const i of secret) if (i >= words.length) secret.delete(i);
  return secret;
}

/** The secret values of a command (for scrubbing free text). `-password=x` yields `x`. */
export function secretsOf(words: readonly string[]): string[] {
  return [...secretIndexes(words)].map((i) => {
    const word = words[i] ?? "";
    const name = flagName(word);
    return name !== undefined && SECRET_FLAGS.has(name) && word.includes("=")
      ? word.slice(word.indexOf("=") + 1)
      : word;
  });
}

/**
 * The words with every secret replaced by `[redacted]`, for logs; a secret repeated elsewhere in
 * the command (a stray positional, part of another word) is scrubbed there too.
 */
export function redactWords(words: readonly string[]): string[] {
  const secret = secretIndexes(words);
  const values = secretsOf(words);
  return words.map((w, i) => {
    if (!secret.has(i)) return scrubText(w, values);
    const name = flagName(w);
    return name !== undefined && w.includes("=")
      ? `${w.slice(0, w.indexOf("=") + 1)}${REDACTED}`
      : REDACTED;
  });
}

/** Every form in which `secret` may show up in a text we produce or relay. */
function forms(secret: string): string[] {
  const quoted = quoteWord(secret);
  return [
    secret,
    quoted.slice(1, -1),
    JSON.stringify(secret).slice(1, -1),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    Buffer.from(secret, "utf8").toString("base64"),
  ];
}

/** Removes every given secret (in its plain and encoded forms) from `text`. */
export function scrubText(text: string, secrets: readonly string[]): string {
  const all = [...new Set(secrets.filter((s) => s !== "").flatMap(forms))]
    .filter((s) => s !== "")
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of all) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/**
 * The same error with its text scrubbed of `secrets`. Typed errors keep their class; anything
 * else (a bug, a Kubernetes client error whose text may carry the exec URL) becomes
 * SojuUnavailable. No `cause` is attached: it could carry the secret.
 */
export function scrubError(error: unknown, secrets: readonly string[]): Error {
  const clean = (text: string) => scrubText(text, secrets);
  if (error instanceof SojuCommandFailed)
    return new SojuCommandFailed(clean(error.reply), error.command);
  if (error instanceof SojuUnavailable) return new SojuUnavailable(clean(error.message));
  if (error instanceof SojuInvalidArgument) return new SojuInvalidArgument(clean(error.message));
  if (error instanceof SojuUnsupported) return new SojuUnsupported(clean(error.message));
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new SojuUnavailable(clean(text));
}
