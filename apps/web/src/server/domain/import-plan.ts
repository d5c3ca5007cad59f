import type { IrccloudAccount, IrccloudNetwork } from "../irccloud/model";

/**
 * From what IRCCloud sent to what soju will get: network names soju accepts and that do not
 * collide, addresses, and the warnings the preview shows for what cannot be carried over as is.
 * Pure functions: the preview and its tests share them.
 */

/** soju reserves `*`; the portal's own upstream is `irc.now` (SOJU_UPSTREAM_NETWORK's default). */
const RESERVED_NETWORK_NAMES = new Set(["*", "irc.now"]);

export interface PlannedChannel {
  name: string;
  archived: boolean;
  keyed: boolean;
  /** Off by default: archived in IRCCloud. */
  selected: boolean;
  warnings: string[];
}

export interface PlannedNetwork {
  /** The soju network name (IRCCloud's name, made safe and unique). */
  name: string;
  host: string;
  port: number;
  tls: boolean;
  nick: string;
  realname?: string;
  /** `ircs://host:port` or `irc+insecure://host:port` (facts/irccloud.md "What an import takes"). */
  addr: string;
  hasServerPassword: boolean;
  hasNickserv: boolean;
  selected: boolean;
  warnings: string[];
  channels: PlannedChannel[];
  source: IrccloudNetwork;
}

/** A soju network name: no `/` (it separates `#chan/<network>`), no spaces, at most 64 characters. */
function safeName(raw: string): string {
  const cleaned = raw
    .trim()
    .replace(/[\s/\\,*]+/g, "-")
    .replace(/[^\x21-\x7e]/g, "")
    .slice(0, 64);
  return cleaned === "" ? "network" : cleaned;
}

export function addrOf(network: { host: string; port: number; tls: boolean }): string {
  const host = network.host.includes(":") ? `[${network.host}]` : network.host;
  return `${network.tls ? "ircs" : "irc+insecure"}://${host}:${network.port}`;
}

/**
 * `alreadyImported`: network names (lowercase) this user's earlier imports added to the bouncer;
 * they start unselected with a warning.
 */
export function planImport(
  account: IrccloudAccount,
  alreadyImported: ReadonlySet<string>,
): PlannedNetwork[] {
  const taken = new Set<string>();
  return account.networks.map((source) => {
    const warnings: string[] = [];
    let name = safeName(source.name);
    if (name !== source.name)
      warnings.push(
        `Named “${name}” in your bouncer (soju network names cannot contain spaces or slashes).`,
      );
    if (RESERVED_NETWORK_NAMES.has(name.toLowerCase())) {
      name = `${name}-irccloud`;
      warnings.push(
        `Named “${name}”: “${source.name}” is the name of irc.now's own network in your bouncer.`,
      );
    }
    const base = name;
    for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base}-${i}`;
    if (name !== base)
      warnings.push(`Named “${name}”: another IRCCloud network has the same name.`);
    taken.add(name.toLowerCase());
    const imported = alreadyImported.has(name.toLowerCase());
    if (imported)
      warnings.push(
        `A network named “${name}” is already in your bouncer from an earlier import; importing it again would change nothing, so it is not selected.`,
      );
    if (source.nickservPassword)
      warnings.push(
        `Your NickServ password is set as SASL PLAIN login for account “${source.nickservAccount ?? source.nick}”.`,
      );
    const channels = source.channels.map((c): PlannedChannel => {
      const cw: string[] = [];
      if (c.key)
        cw.push(
          "Has a key: soju cannot store channel keys, so it is joined with a connect command of this network (JOIN with the key on every connect).",
        );
      if (c.archived) cw.push("Archived in IRCCloud, so not selected.");
      return {
        name: c.name,
        archived: c.archived,
        keyed: c.key !== undefined,
        selected: !c.archived && !imported,
        warnings: cw,
      };
    });
    const keyed = channels.filter((c) => c.keyed).length;
    if (keyed > 20)
      warnings.push(
        "soju takes at most 20 connect commands: only the first 20 keyed channels are joined with their keys.",
      );
    return {
      name,
      host: source.host,
      port: source.port,
      tls: source.tls,
      nick: source.nick,
      realname: source.realname,
      addr: addrOf(source),
      hasServerPassword: source.serverPassword !== undefined,
      hasNickserv: source.nickservPassword !== undefined,
      selected: !imported,
      warnings,
      channels,
      source,
    };
  });
}

/**
 * The preview's account-wide warning about soju's `max-user-networks` (-1: none). irc.now's own
 * network counts too.
 */
export function networkLimitWarning(
  maxUserNetworks: number,
  existingNetworks: number,
  planned: number,
): string | null {
  if (maxUserNetworks < 0) return null;
  const room = Math.max(0, maxUserNetworks - existingNetworks);
  if (planned <= room) return null;
  return `Your bouncer can hold ${maxUserNetworks} networks, irc.now's own included, so only ${room} more can be added: networks beyond that will fail with soju's “maximum number of networks reached”. Select at most ${room}.`;
}
