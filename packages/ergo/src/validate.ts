import { ErgoRejected } from "./errors";

/** ergo's limit for a passphrase, and what it refuses in one (facts/ergo.md, ergo's source). */
const MAX_PASSWORD_BYTES = 300;

function hasSpaceOrControl(text: string): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0x20 || code === 0x7f || /\s/u.test(ch)) return true;
  }
  return false;
}

/**
 * A name (account or nick) that is safe to put into one IRC parameter: non-empty, no space or
 * control character (CR/LF/NUL would let it inject commands), not starting with ":".
 */
export function checkName(what: "account" | "nick", name: string): void {
  if (typeof name !== "string" || name === "") throw new ErgoRejected(`the ${what} name is empty`);
  if (hasSpaceOrControl(name) || name.startsWith(":")) {
    throw new ErgoRejected(
      `the ${what} name contains a space, a control character or a leading ":"`,
    );
  }
  if (name.length > 64) throw new ErgoRejected(`the ${what} name is longer than 64 characters`);
}

/**
 * A password ergo can store and that survives one IRC parameter: 1–300 bytes, no space or
 * control character, not `*` (which NickServ reads as "no password"). Never echoes the value.
 */
export function checkPassword(password: string): void {
  if (typeof password !== "string" || password === "")
    throw new ErgoRejected("the password is empty");
  if (password === "*") throw new ErgoRejected('the password "*" means "no password" to NickServ');
  if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES) {
    throw new ErgoRejected(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  if (hasSpaceOrControl(password)) {
    throw new ErgoRejected("the password contains a space or a control character");
  }
}

/**
 * Case-folding for comparing nicks/accounts: ASCII lower case plus the rfc1459 pairs, so that
 * the admin-nick guard errs on the side of refusing.
 */
export function foldName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\[/g, "{")
    .replace(/\]/g, "}")
    .replace(/\\/g, "|")
    .replace(/~/g, "^");
}
