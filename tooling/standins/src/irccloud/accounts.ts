/** The IRCCloud stand-in's accounts: what its stream sends for each (facts/irccloud.md). */

export interface IrccloudChannelSeed {
  name: string;
  archived?: boolean;
  /** Sent as channel_init's `ops.add` `{mode:"k", param}` (joined channels only). */
  key?: string;
}

export interface IrccloudNetworkSeed {
  name?: string;
  hostname: string;
  port: number;
  ssl: boolean;
  nick: string;
  realname?: string;
  server_pass?: string;
  nickserv_pass?: string;
  channels: IrccloudChannelSeed[];
}

export interface IrccloudUserSeed {
  email: string;
  password: string;
  name?: string;
  networks: IrccloudNetworkSeed[];
  /** Login answers `{"success":false,"message":<this>}` with 400 (e.g. `legacy_account`). */
  loginRefusal?: string;
  /** Login gives a session for shard 1; the stream at `/` answers `set_shard` towards it. */
  sharded?: boolean;
  /** `backlog_complete` inside the OOB array (default) or on the socket after `oob_include`. */
  backlogComplete?: "oob" | "socket";
  /** `stall`: header + stat_user, then nothing, forever. `slow`: each frame after `delayMs`. */
  stream?: "normal" | "stall" | "slow";
  delayMs?: number;
}

/**
 * The seed for `npm run dev`: 3 networks, 11 channels (one archived, one keyed). `at`: point every
 * network at this IRC server instead (dev and tests use the local ergo, so soju's connections stay
 * on this machine).
 */
export function defaultIrccloudUsers(at?: { host: string; port: number }): IrccloudUserSeed[] {
  const users: IrccloudUserSeed[] = [
    {
      email: "alice@irccloud.example",
      password: "irccloud-password",
      name: "Alice",
      networks: [
        {
          name: "Libera",
          hostname: "irc.libera.chat",
          port: 6697,
          ssl: true,
          nick: "alice_l",
          realname: "Alice Liddell",
          nickserv_pass: "libera-nickserv-pass",
          channels: [
            { name: "#libera" },
            { name: "#python" },
            { name: "#rust" },
            { name: "#oldproject", archived: true },
          ],
        },
        {
          name: "OFTC",
          hostname: "irc.oftc.net",
          port: 6697,
          ssl: true,
          nick: "alice_o",
          channels: [{ name: "#debian" }, { name: "#oftc" }, { name: "#tor" }],
        },
        {
          name: "Home",
          hostname: "irc.home.example",
          port: 6667,
          ssl: false,
          nick: "alice_h",
          server_pass: "home-server-pass",
          channels: [
            { name: "#family" },
            { name: "#secret", key: "hunter2" },
            { name: "#garden" },
            { name: "#music" },
          ],
        },
      ],
    },
  ];
  if (!at) return users;
  return users.map((u) => ({
    ...u,
    networks: u.networks.map((n) => ({ ...n, hostname: at.host, port: at.port, ssl: false })),
  }));
}
