/**
 * Encoding BouncerServ words for soju (facts/soju.md §7.2).
 *
 * soju splits the command text with `splitWords`: `"…"` quotes, a backslash takes the next
 * character literally. The safe client encoding is: wrap every word in `"…"`, escape only `\`
 * and `"`, join with single spaces, send `BOUNCERSERV :<text>`. CR, LF and NUL cannot travel in
 * an IRC line at all, so they are refused before anything is sent.
 */
import { SojuInvalidArgument } from "./port";

const FORBIDDEN: ReadonlyArray<[RegExp, string]> = [
  [/\r/, "a carriage return (CR)"],
  [/\n/, "a line feed (LF)"],
  [/\0/, "a NUL character"],
  [/\p{Cs}/u, "a lone UTF-16 surrogate (not valid Unicode)"],
];

/**
 * Where a word sits, for error messages that must not show the word (it may be a password):
 * "the value of -realname", or "word 7".
 */
export function describeWord(words: readonly string[], index: number): string {
  const previous = index > 0 ? words[index - 1] : undefined;
  if (previous !== undefined && /^--?[a-z][a-z-]*$/.test(previous))
    return `the value of ${previous} (word ${index + 1})`;
  return `word ${index + 1}`;
}

/** Throws SojuInvalidArgument when a word cannot be sent to soju; the message never shows the word. */
export function assertSendable(words: readonly string[]): void {
  if (words.length === 0) throw new SojuInvalidArgument("no BouncerServ command words given");
  words.forEach((word, index) => {
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(word)) {
        throw new SojuInvalidArgument(
          `${describeWord(words, index)} contains ${what}; soju cannot receive CR, LF or NUL in a command`,
        );
      }
    }
  });
}

/** `"…"` with `\` and `"` escaped: soju's splitWords gives back exactly `word`. */
export function quoteWord(word: string): string {
  return `"${word.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The command text: every word quoted, joined with single spaces. Refuses CR/LF/NUL. */
export function commandText(words: readonly string[]): string {
  assertSendable(words);
  return words.map(quoteWord).join(" ");
}

/**
 * The admin-socket line without its CRLF: `BOUNCERSERV :<quoted words>`. The colon is required
 * (soju reads only the first parameter, facts §7.2).
 */
export function bouncerServLine(words: readonly string[]): string {
  return `BOUNCERSERV :${commandText(words)}`;
}

/**
 * Characters Go's `strconv.Quote` escapes (apart from `"` and `\`): sojuctl quotes every argv word
 * with it and soju reads `\t` back as `t`, `\x01` as `x01` (facts §7.2, "sojuctl bug"). Go's
 * strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
 */
const NOT_GO_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** For argv that goes through sojuctl: refuses what sojuctl would silently change. */
export function assertSojuctlSafe(words: readonly string[]): void {
  assertSendable(words);
  words.forEach((word, index) => {
    const match = NOT_GO_PRINTABLE.exec(word);
    if (match) {
      const cp = match[0].codePointAt(0) ?? 0;
      const what =
        cp === 0x09
          ? "a tab"
          : `the non-printable character U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
      throw new SojuInvalidArgument(
        `${describeWord(words, index)} contains ${what}, which sojuctl would mangle (strconv.Quote escapes it and soju drops the backslash); use SOJU_ADMIN=socket for such values`,
      );
    }
  });
  if (words[0]?.startsWith("-"))
    throw new SojuInvalidArgument(
      "the first command word must not start with '-' (sojuctl would take it as its own flag)",
    );
}
