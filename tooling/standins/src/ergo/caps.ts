/**
 * The capabilities the stand-in advertises, in ergo's (alphabetical) order.
 * Recorded from ergo v2.11.1: the second `CAP LS` line is exactly
 * `sasl=PLAIN,EXTERNAL server-time setname userhost-in-names znc.in/playback znc.in/self-message`.
 * The first line was recorded as `account-notify account-tag … multi-prefix`; the stand-in
 * fills the `…` only with caps whose behaviour it implements or that change nothing
 * unless a feature it lacks is used (see docs/stand-ins.md).
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
