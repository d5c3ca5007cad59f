import { foldName } from "../validate";

/**
 * Reading ergo's answers to the oper session's commands (facts/ergo.md). Pure functions over
 * the lines one command produced: machine-readable `REGISTER` / `FAIL REGISTER` first, then the
 * known NickServ NOTICE texts (ergo v2.11.1 seen live), then numerics for WHOIS.
 */

export interface IrcLine {
  /** Nick of a `nick!user@host` prefix, or the server name. */
  source: string;
  command: string;
  params: string[];
}

export type NickServOutcome =
  | { kind: "created" }
  | { kind: "exists" }
  | { kind: "changed" }
  /** ergo refused this request (name restricted/invalid, bad parameters…). */
  | { kind: "rejected"; reason: string }
  /** The session lacks the oper privilege (`accreg`) for this command. */
  | { kind: "forbidden"; reason: string }
  /** No known reply: we cannot tell what happened. */
  | { kind: "unknown"; reason: string };

/** Codes ergo uses in `FAIL REGISTER <code>` for an existing account: v2.11.1 and current. */
export const ACCOUNT_EXISTS_CODES: ReadonlySet<string> = new Set([
  "USERNAME_EXISTS",
  "ACCOUNT_EXISTS",
]);

const RESTRICTED_NAME_REASON =
  "ergo reserves this name (a service name or the guest nick pattern): Account already exists";

/** Removes mIRC formatting (bold, colour, italics…) that services may put into NOTICEs. */
export function stripFormatting(text: string): string {
  // eslint-disable-next-line no-control-regex -- these control characters are the formatting codes
  return text.replace(/\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g, "");
}

function trailing(line: IrcLine): string {
  return line.params[line.params.length - 1] ?? "";
}

/** The texts of the NOTICEs NickServ sent, formatting removed. */
export function nickServNotices(lines: readonly IrcLine[]): string[] {
  return lines
    .filter((l) => l.command === "NOTICE" && l.source.toLowerCase() === "nickserv")
    .map((l) => stripFormatting(trailing(l)).trim());
}

/** Meanings of NOTICE texts shared by SAREGISTER and PASSWD. */
function commonNotice(text: string): NickServOutcome | null {
  if (text === "Command restricted" || text === "Insufficient privileges") {
    return {
      kind: "forbidden",
      reason: `NickServ: ${text} (the oper needs the accreg capability)`,
    };
  }
  if (text.startsWith("Invalid parameters"))
    return { kind: "rejected", reason: `NickServ: ${text}` };
  if (text.startsWith("Unknown command")) return { kind: "rejected", reason: `NickServ: ${text}` };
  if (/passphrase|password/i.test(text) && /invalid|forbidden|must/i.test(text)) {
    return { kind: "rejected", reason: `NickServ: ${text}` };
  }
  return null;
}

/** What `NS SAREGISTER <account> <password>` did. */
export function classifySaregister(lines: readonly IrcLine[]): NickServOutcome {
  const notices = nickServNotices(lines);
  const restrictedNotice = notices.includes("Account already exists");

  // 1. machine-readable (cap draft/account-registration)
  for (const line of lines) {
    if (line.command === "REGISTER" && line.params[0] === "SUCCESS") return { kind: "created" };
    if (line.command === "FAIL" && line.params[0] === "REGISTER") {
      const code = line.params[1] ?? "";
      const text = stripFormatting(trailing(line)).trim();
      if (ACCOUNT_EXISTS_CODES.has(code)) {
        // ergo uses the same code for restricted/guest names ("Account already exists")
        if (restrictedNotice || text === "Account already exists") {
          return { kind: "rejected", reason: RESTRICTED_NAME_REASON };
        }
        return { kind: "exists" };
      }
      return { kind: "rejected", reason: `REGISTER ${code}: ${text}` };
    }
  }

  // 2. NickServ NOTICE texts
  for (const text of notices) {
    if (/^Successfully registered account \S+/.test(text)) return { kind: "created" };
    if (text === "Name reserved due to a prior registration") return { kind: "exists" };
    if (text === "Account already exists")
      return { kind: "rejected", reason: RESTRICTED_NAME_REASON };
    if (text.startsWith("Could not register"))
      return { kind: "rejected", reason: `NickServ: ${text}` };
    const common = commonNotice(text);
    if (common) return common;
  }
  return unknown(notices);
}

/** What the oper form `NS PASSWD <account> <password>` did. */
export function classifyPasswd(lines: readonly IrcLine[]): NickServOutcome {
  const notices = nickServNotices(lines);
  for (const text of notices) {
    if (text === "Password changed") return { kind: "changed" };
    if (text === "Account does not exist") {
      return {
        kind: "rejected",
        reason:
          "NickServ: Account does not exist (the name is reserved but has no account to reset)",
      };
    }
    const common = commonNotice(text);
    if (common) return common;
  }
  return unknown(notices);
}

function unknown(notices: string[]): NickServOutcome {
  if (notices.length === 0) return { kind: "unknown", reason: "NickServ sent no reply" };
  return {
    kind: "unknown",
    reason: `unrecognised NickServ reply: ${notices.join(" / ").slice(0, 300)}`,
  };
}

/**
 * The account from a WHOIS reply: `330 <me> <nick> <account> :is logged in as`; null when the
 * nick is absent (401) or not logged in (318 without 330).
 */
export function accountFromWhois(lines: readonly IrcLine[], nick: string): string | null {
  const wanted = foldName(nick);
  for (const line of lines) {
    if (line.command !== "330") continue;
    const [, who, account] = line.params;
    if (who !== undefined && account !== undefined && foldName(who) === wanted) return account;
  }
  return null;
}

/** What one `NS ERASE <account> [code]` produced. */
export type EraseOutcome =
  | { kind: "erased" }
  /** ergo wants the command again with this code (the first call always gets this). */
  | { kind: "confirm"; code: string }
  | { kind: "forbidden"; reason: string }
  /** ergo failed on its side ("Error while unregistering account"): worth retrying. */
  | { kind: "failed"; reason: string }
  | { kind: "rejected"; reason: string }
  | { kind: "unknown"; reason: string };

/**
 * Reads ergo's answer to `NS ERASE` (recorded on the real ergo 2.15.0, peers kit):
 * - without the code: `\x02Warning: erasing this account will allow it to be re-registered;
 *   consider UNREGISTER instead.\x02` then `To confirm, run this command: /NS ERASE <name> <code>`
 *   (the code depends on the name as typed and the server's start time);
 * - with it: `Successfully unregistered account <name>`, also for a name that has no account;
 * - `Account does not exist` / `Invalid account name` (UNREGISTER's and other versions' words for
 *   a missing account) count as erased too: the account is gone either way.
 */
export function classifyErase(lines: readonly IrcLine[], account: string): EraseOutcome {
  const notices = nickServNotices(lines);
  const wanted = foldName(account);
  for (const text of notices) {
    const done = /^Successfully unregistered account (\S+)$/.exec(text);
    if (done && foldName(done[1] ?? "") === wanted) return { kind: "erased" };
    if (text === "Account does not exist" || text === "Invalid account name") {
      return { kind: "erased" };
    }
    const confirm = /^To confirm, run this command: \/NS ERASE (\S+) (\S+)$/i.exec(text);
    if (confirm && foldName(confirm[1] ?? "") === wanted) {
      return { kind: "confirm", code: confirm[2] ?? "" };
    }
    if (text === "Insufficient oper privs") {
      return {
        kind: "forbidden",
        reason: `NickServ: ${text} (the oper needs the accreg capability)`,
      };
    }
    if (text === "Error while unregistering account" || text === "Internal error") {
      return { kind: "failed", reason: `NickServ: ${text}` };
    }
    const common = commonNotice(text);
    if (common && (common.kind === "forbidden" || common.kind === "rejected")) return common;
  }
  // the warning alone (no confirmation line) is not an answer
  const meaningful = notices.filter((t) => !t.startsWith("Warning: erasing"));
  if (meaningful.length === 0) return { kind: "unknown", reason: "NickServ sent no reply" };
  return {
    kind: "unknown",
    reason: `unrecognised NickServ reply: ${meaningful.join(" / ").slice(0, 300)}`,
  };
}
