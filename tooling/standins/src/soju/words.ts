/**
 * soju's `splitWords` (facts/soju.md §7.2) and Go's `strconv.Quote` (used by sojuctl on every word,
 * and by soju's `%q` in reply texts).
 */

/** Go's unicode.IsSpace. */
export function isGoSpace(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0xff) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  return (
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

export class SplitWordsError extends Error {}

/**
 * Splits a BouncerServ command text into words exactly like soju: runs of whitespace separate
 * words, "…" and '…' quote (also mid-word), a backslash takes the next character literally, and
 * the quirk that an escaped whitespace merges with a following real whitespace is preserved.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let last = "";
  let escape = false;
  let prev = " ";
  let delim = " ";
  for (const ch of text) {
    if (escape) {
      last += ch;
      escape = false;
    } else if (ch === "\\") {
      escape = true;
    } else if (delim === " " && isGoSpace(ch)) {
      if (!isGoSpace(prev)) {
        words.push(last);
        last = "";
      }
    } else if (ch === delim) {
      delim = " ";
    } else if (ch === '"' || ch === "'") {
      if (delim === " ") delim = ch;
      else last += ch;
    } else {
      last += ch;
    }
    prev = ch;
  }
  if (!isGoSpace(prev)) words.push(last);
  if (delim !== " ") throw new SplitWordsError("unterminated quoted string");
  if (escape) throw new SplitWordsError("unterminated backslash sequence");
  return words;
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's `strconv.Quote` (and so `fmt.Sprintf("%q", s)`). */
export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\uFFFD";
    else if (printable.test(ch)) out += ch;
    else if (cp === 0x07) out += "\\a";
    else if (cp === 0x08) out += "\\b";
    else if (cp === 0x0c) out += "\\f";
    else if (cp === 0x0a) out += "\\n";
    else if (cp === 0x0d) out += "\\r";
    else if (cp === 0x09) out += "\\t";
    else if (cp === 0x0b) out += "\\v";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += `\\U${cp.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

/** The command text sojuctl sends: every word through strconv.Quote, joined with spaces. */
export function sojuctlCommandText(words: readonly string[]): string {
  return words.map(goQuote).join(" ");
}

/**
 * The safe client encoding of facts/soju.md §7.2: wrap each argument in "…", escaping only `\` and
 * `"`. (Unlike sojuctl's strconv.Quote it keeps a tab a tab.)
 */
export function quoteWordsForSoju(words: readonly string[]): string {
  return words.map((w) => `"${w.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(" ");
}
