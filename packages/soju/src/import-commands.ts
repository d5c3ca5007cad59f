/**
 * BouncerServ words for adding someone's own networks and channels (the IRCCloud import), run
 * through `SojuAdmin.userRun`. soju ≥ 0.9 (`channel create`); facts/soju.md §5, §7.6.
 */

export interface ImportedNetwork {
  name: string;
  /** `ircs://host:port` or `irc+insecure://host:port`. */
  addr: string;
  nick: string;
  username: string;
  realname?: string;
  /** The server password (`-pass`); the soju admin layer redacts it from logs and errors. */
  pass?: string;
  /** Raw lines sent on every connect (`-connect-command`, at most 20). */
  connectCommands?: string[];
  /** Created disabled when SASL credentials are still to be set (they do not reconnect). */
  enabled: boolean;
}

/** soju accepts at most 20 `-connect-command` flags. */
export const MAX_CONNECT_COMMANDS = 20;

export function networkCreateWords(network: ImportedNetwork): string[] {
  const words = [
    "network",
    "create",
    "-addr",
    network.addr,
    "-name",
    network.name,
    "-nick",
    network.nick,
    "-username",
    network.username,
  ];
  if (network.realname) words.push("-realname", network.realname);
  if (network.pass) words.push("-pass", network.pass);
  for (const command of (network.connectCommands ?? []).slice(0, MAX_CONNECT_COMMANDS))
    words.push("-connect-command", command);
  words.push("-enabled", network.enabled ? "true" : "false");
  return words;
}

/** `channel create <#chan>/<network>`: over `user run` there is no current network. */
export function channelCreateWords(channel: string, network: string): string[] {
  return ["channel", "create", `${channel}/${network}`];
}

/**
 * soju has no key flag for channels (§7.6): a keyed channel is joined by a connect command. The
 * key must not break the raw line (no spaces, commas or control characters).
 */
export function keyedJoinCommand(channel: string, key: string): string | null {
  const rawSafe = (word: string) =>
    word !== "" && [...word].every((ch) => ch > " " && ch !== "," && ch !== "\x7f");
  if (!rawSafe(key) || !rawSafe(channel)) return null;
  return `JOIN ${channel} ${key}`;
}

/** `channel "#x" already exists`. */
export function isChannelExistsReply(reply: string): boolean {
  return /^channel ".*" already exists$/.test(reply.trim());
}

/** `maximum number of (enabled )?networks reached` (soju 0.7 / 0.10). */
export function isNetworkLimitReply(reply: string): boolean {
  return /maximum number of (enabled )?networks reached/.test(reply);
}
