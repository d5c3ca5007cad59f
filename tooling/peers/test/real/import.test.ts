import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import {
  channelCreateWords,
  createSojuAdmin,
  isChannelExistsReply,
  keyedJoinCommand,
  networkCreateWords,
  parseNetworkExists,
  SojuCommandFailed,
  type SojuAdmin,
} from "@irc-now/soju";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startSoju, type RealSoju } from "../../src/soju";

/**
 * The IRCCloud import's soju commands against the real soju 0.10.1, through SojuAdmin's socket
 * adapter as the worker sends them (apps/worker/src/import/run.ts): `network create` with every
 * flag the import uses (-addr irc+insecure://, -name, -nick, -username, -realname, -pass,
 * -connect-command for a keyed channel, -enabled false), `sasl set-plain`, `network update
 * -enabled true`, then `channel create #chan/<network>`; and the replies a second import meets.
 */

const peers = inject("peers");
const BOUNCER = "import-bouncer";
const USER = "dave";

let root = "";
let soju: RealSoju | undefined;
let admin: SojuAdmin | undefined;

async function failure(p: Promise<unknown>): Promise<SojuCommandFailed> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SojuCommandFailed);
  return error as SojuCommandFailed;
}

describe.skipIf(!peers)("IRCCloud import commands against real soju 0.10.1", () => {
  beforeAll(async () => {
    root = await mkdtemp(join(peers!.stateRoot, "import-"));
    soju = await startSoju({ postgresUrl: peers!.postgresUrl!, stateDir: join(root, BOUNCER) });
    admin = createSojuAdmin({
      SOJU_ADMIN: "socket",
      SOJU_ADMIN_SOCKET: join(root, "{name}", "admin.sock"),
      SOJU_POD_SELECTOR: "irc.now/bouncer={name}",
      SOJU_CONTAINER: "soju",
      SOJU_CONFIG_PATH: "/etc/soju/config",
      namespace: "irc-now",
    });
    expect(await admin.createUser(BOUNCER, { username: USER, disablePassword: true })).toBe(
      "created",
    );
  });

  afterAll(async () => {
    await admin?.close();
    await soju?.stop();
  });

  it("accepts network create with the import's flags, SASL, enabling, and channel create", async () => {
    const a = admin!;
    const join = keyedJoinCommand("#secret", "hunter2");
    expect(join).toBe("JOIN #secret hunter2");
    const created = await a.userRun(
      BOUNCER,
      USER,
      networkCreateWords({
        name: "Home",
        addr: `irc+insecure://127.0.0.1:${peers!.ergo!.port}`,
        nick: "dave_h",
        username: "dave_h",
        realname: "Dave Imported",
        pass: "home server pass",
        connectCommands: [join!],
        enabled: false,
      }),
    );
    expect(created).toEqual(['created network "Home"']);
    await a.setSaslPlain(BOUNCER, USER, "Home", "dave_h", "ns-pass");
    await a.enableNetwork(BOUNCER, USER, "Home");
    expect(await a.userRun(BOUNCER, USER, channelCreateWords("#family", "Home"))).toEqual([
      'created channel "#family"',
    ]);

    // What a second import meets: the network and the channel exist.
    const again = await failure(
      a.userRun(
        BOUNCER,
        USER,
        networkCreateWords({
          name: "Home",
          addr: "ircs://irc.example.org:6697",
          nick: "dave_h",
          username: "dave_h",
          enabled: true,
        }),
      ),
    );
    expect(parseNetworkExists(again.reply)).toBe("Home");
    const chan = await failure(a.userRun(BOUNCER, USER, channelCreateWords("#family", "Home")));
    expect(isChannelExistsReply(chan.reply)).toBe(true);

    // soju stored what was sent.
    const db = new pg.Client({ connectionString: soju!.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{
        addr: string;
        nick: string;
        realname: string;
        pass: string;
        connect_commands: string;
        sasl_plain_username: string;
        enabled: boolean;
      }>(
        `SELECT addr, nick, realname, pass, connect_commands, sasl_plain_username, enabled FROM "Network" WHERE name = 'Home'`,
      );
      expect(rows).toEqual([
        {
          addr: `irc+insecure://127.0.0.1:${peers!.ergo!.port}`,
          nick: "dave_h",
          realname: "Dave Imported",
          pass: "home server pass",
          connect_commands: "JOIN #secret hunter2",
          sasl_plain_username: "dave_h",
          enabled: true,
        },
      ]);
      const channels = await db.query<{ name: string }>(`SELECT name FROM "Channel"`);
      expect(channels.rows.map((r) => r.name)).toEqual(["#family"]);
    } finally {
      await db.end();
    }
  });
});
