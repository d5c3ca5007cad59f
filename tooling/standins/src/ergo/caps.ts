/**
 * The capabilities the stand-in advertises, in ergo's (alphabetical) order.
 * Recorded from ergo v2.11.1, then checked against ergo v2.15.0 (peers kit): 2.15 also offers
 * `draft/pre-away` (AWAY before registration, `AWAY *`) and `standard-replies` (it sends FAIL
 * lines either way), which the stand-in now offers too. It still leaves out what it does not
 * implement: 2.15's `SCRAM-SHA-256` SASL mechanism, `draft/chathistory`, `draft/multiline`,
 * `draft/persistence`, `draft/languages`, `draft/read-marker`, `draft/message-redaction`,
 * `draft/no-implicit-names`, `draft/extended-isupport` and `extended-monitor`
 * (see docs/stand-ins.md). The split into two lines stays the recorded one (before `sasl`).
 */
export const CAPABILITIES: ReadonlyArray<readonly [name: string, value: string | null]> = [
  ["account-notify", null],
  ["account-tag", null],
  ["away-notify", null],
  ["batch", null],
  ["cap-notify", null],
  ["chghost", null],
  ["draft/account-registration", "before-connect"],
  ["draft/channel-rename", null],
  ["draft/event-playback", null],
  ["draft/pre-away", null],
  ["draft/relaymsg", "/"],
  ["echo-message", null],
  ["ergo.chat/nope", null],
  ["extended-join", null],
  ["invite-notify", null],
  ["labeled-response", null],
  ["message-tags", null],
  ["multi-prefix", null],
  ["sasl", "PLAIN,EXTERNAL"],
  ["server-time", null],
  ["setname", null],
  ["standard-replies", null],
  ["userhost-in-names", null],
  ["znc.in/playback", null],
  ["znc.in/self-message", null],
];

/** ergo NAKs any request containing this cap (it exists to test clients). */
export const NOPE_CAP = "ergo.chat/nope";

const KNOWN = new Set(CAPABILITIES.map(([name]) => name));

export function isKnownCap(name: string): boolean {
  return KNOWN.has(name) && name !== NOPE_CAP;
}

function token([name, value]: readonly [string, string | null], withValues: boolean): string {
  return withValues && value !== null ? `${name}=${value}` : name;
}

/**
 * The `CAP LS` payload split into lines as ergo sent it (the split falls before `sasl`).
 * Without `CAP LS 302` there are no values and a single line.
 */
export function capLsLines(version: number): string[] {
  if (version < 302) return [CAPABILITIES.map((c) => token(c, false)).join(" ")];
  const splitAt = CAPABILITIES.findIndex(([name]) => name === "sasl");
  return [
    CAPABILITIES.slice(0, splitAt)
      .map((c) => token(c, true))
      .join(" "),
    CAPABILITIES.slice(splitAt)
      .map((c) => token(c, true))
      .join(" "),
  ];
}
