/**
 * Name rules: ergo (with `casemapping: ascii`, advertised as CASEMAPPING=ascii)
 * folds A-Z only. A nick or account name may not contain ` ,*?.!@:` and may not
 * start with one of `#~&@%+-`.
 */

export const NICKLEN = 32;

/** Names NickServ refuses with "Account already exists" (services and the guest pattern). */
const SERVICE_NAMES = new Set(["nickserv", "chanserv", "hostserv", "histserv"]);

export function casefold(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

export function isValidName(name: string): boolean {
  if (name.length === 0 || name.length > NICKLEN) return false;
  // ascii casemapping: printable ASCII only
  if (!/^[\x21-\x7e]+$/.test(name)) return false;
  if (/[ ,*?.!@:]/.test(name)) return false;
  return !"#~&@%+-".includes(name[0] ?? "");
}

/** True when `text` contains whitespace or an ASCII control character. */
export function hasSpaceOrControl(text: string): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0x20 || code === 0x7f || /\s/.test(ch)) return true;
  }
  return false;
}

export function isValidChannel(name: string): boolean {
  return (
    name.startsWith("#") &&
    name.length > 1 &&
    name.length <= 64 &&
    !hasSpaceOrControl(name) &&
    !/[,*?]/.test(name)
  );
}

export function isGuestName(name: string, guestPrefix = "Guest-"): boolean {
  return casefold(name).startsWith(casefold(guestPrefix));
}

export function isServiceName(name: string): boolean {
  return SERVICE_NAMES.has(casefold(name));
}
