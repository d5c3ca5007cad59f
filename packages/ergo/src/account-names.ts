/**
 * Account names the portal can never set up on ergo, whatever an admin does: ergo refuses to
 * register them, or registering one would break the worker's own oper session. Pure and
 * dependency-free, so the web (refusal at sign-in) and the worker (classifying such a setup
 * failure as permanent) share one rule.
 *
 * Seen live on real ergo v2.15.0 (`../shared/peers`, its default.yaml: `casemapping: ascii`,
 * `guest-nickname-format: "Guest-*"`, nick enforcement `strict`), as oper with `accreg`,
 * `NS SAREGISTER <name> <pass>` on 2026-11-30:
 * - `Account already exists` (refused) for: nickserv, NickServ, chanserv, ChanServ, hostserv,
 *   histserv, HistServ, operserv, memoserv, botserv, global, Global, GLOBAL, =scene=,
 *   Guest-x, guest-x, GUEST-foo, guest- (the pattern's `*` matches nothing too), guest-irc-now,
 *   Guest-alice.
 * - `Successfully registered account …` (allowed) for: NS, ns, cs, hs, hist (service aliases
 *   are not reserved), guest, guestx, guest_x, scene, alis, saslserv, infoserv, statserv,
 *   gameserv, helpserv, groupserv, rootserv, ctcpserv, seenserv, spamserv, reportserv,
 *   teamserv, chanfix, oragono, ergo, services, server, root, admin, oper, operator, x, q, w,
 *   nickserv-, nickserv_, n1ckserv, histserv2, memoserv2, hostserv2, irc-now-admin.
 * - SAREGISTER of the nick the oper session itself uses (`probeop`) succeeds, and ergo at once
 *   renames the oper to `Guest-…` (strict nick enforcement), so the session that set it up no
 *   longer has its nick; the oper nick (`ERGO_ADMIN_NICK`) is therefore never a user's account.
 */

/** ergo's reserved service nicknames (casefolded), as refused by ergo 2.15 (see above). */
export const ERGO_RESERVED_NAMES: readonly string[] = [
  "nickserv",
  "chanserv",
  "hostserv",
  "histserv",
  "operserv",
  "memoserv",
  "botserv",
  "global",
  "=scene=",
];

/** ergo's default `accounts.nick-reservation.guest-nickname-format`. */
export const ERGO_DEFAULT_GUEST_FORMAT = "Guest-*";

/** The default oper nick of the portal's ergo session (DESIGN.md: `ERGO_ADMIN_NICK`). */
export const ERGO_DEFAULT_ADMIN_NICK = "irc-now-admin";

export type UnusableAccountNameCode = "admin-nick" | "service-name" | "guest-pattern";

export interface UnusableAccountName {
  code: UnusableAccountNameCode;
  /** For logs and admins (names the rule, never a secret). */
  message: string;
}

export interface AccountNameRules {
  /** The oper session's nick (`ERGO_ADMIN_NICK`); default `irc-now-admin`. */
  adminNick?: string;
  /** ergo's guest nickname template; default `Guest-*`. */
  guestNicknameFormat?: string;
}

/** ergo with `casemapping: ascii` folds A–Z only. */
export function casefoldAscii(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** ergo's glob (`*` any run, `?` one character), matched against the whole casefolded name. */
function globMatches(pattern: string, name: string): boolean {
  const source = [...casefoldAscii(pattern)]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, "s").test(casefoldAscii(name));
}

/**
 * Why `name` can never be an ergo account set up by the portal, or null when it can. Compared
 * as ergo compares (ASCII case-insensitive).
 */
export function unusableAccountName(
  name: string,
  rules: AccountNameRules = {},
): UnusableAccountName | null {
  const folded = casefoldAscii(name);
  const adminNick = rules.adminNick ?? ERGO_DEFAULT_ADMIN_NICK;
  if (folded === casefoldAscii(adminNick)) {
    return {
      code: "admin-nick",
      message: `"${name}" is the nick of the portal's ergo oper session (ERGO_ADMIN_NICK)`,
    };
  }
  if (ERGO_RESERVED_NAMES.includes(folded)) {
    return { code: "service-name", message: `"${name}" is a name ergo reserves for its services` };
  }
  const guest = rules.guestNicknameFormat ?? ERGO_DEFAULT_GUEST_FORMAT;
  if (guest !== "" && globMatches(guest, name)) {
    return {
      code: "guest-pattern",
      message: `"${name}" matches ergo's guest nickname format "${guest}", which cannot be registered`,
    };
  }
  return null;
}
