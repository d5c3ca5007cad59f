import { stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SojuStandin } from "../../src/soju";
import { failed, ok, SojuFixture, waitFor, type RawClient } from "./helpers";

const fx = new SojuFixture();
let soju: SojuStandin;
let dbUrl: string;
let admin: RawClient;

beforeAll(async () => {
  await fx.setup();
  dbUrl = await fx.database();
  soju = await fx.soju({ databaseUrl: dbUrl });
  admin = await fx.admin(soju);
});
afterAll(() => fx.teardown());

describe("admin socket transport (facts §7.1, §7.3)", () => {
  it("is a unix socket with mode 0600", async () => {
    const info = await stat(soju.adminSocketPath);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
  });

  it("sends nothing on connect and answers help with the global commands only, CRLF-terminated", async () => {
    const client = await fx.admin(soju);
    client.write("BOUNCERSERV :help\r\n");
    await client.readReply();
    expect(client.raw.toString("utf8")).toBe(
      ":soju.test PRIVMSG * :available commands: help, user create, user delete, user run, user status, user update\r\n" +
        ":soju.test BOUNCERSERV OK\r\n",
    );
  });

  it("answers `help user create` with the usage line", async () => {
    expect(await admin.command("help user create")).toEqual(
      ok(
        "user create -username <username> -password <password> [-disable-password] [-admin true|false] [-nick <nick>] [-realname <realname>] [-enabled true|false]  [-max-networks <max-networks>]: create a new soju user",
      ),
    );
  });

  it("without the colon only the first word is the command", async () => {
    admin.write("BOUNCERSERV user status\r\n");
    expect(await admin.readReply()).toEqual(
      ok("available commands: user create, user delete, user run, user status, user update"),
    );
  });

  it("answers 461 without prefix to BOUNCERSERV without a parameter, and stays open", async () => {
    admin.write("BOUNCERSERV\r\n");
    expect(await admin.readReply()).toEqual(["461 * BOUNCERSERV :Not enough parameters"]);
    expect(await admin.command("help server")).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
  });

  it("answers 421 to other verbs (PING, PRIVMSG, QUIT) and stays open", async () => {
    admin.write("PING x\r\n");
    expect(await admin.readReply()).toEqual([":soju.test 421 * PING :Unknown command"]);
    admin.write("privmsg BouncerServ :help\r\n");
    expect(await admin.readReply()).toEqual([":soju.test 421 * PRIVMSG :Unknown command"]);
    admin.write("QUIT :bye\r\n");
    expect(await admin.readReply()).toEqual([":soju.test 421 * QUIT :Unknown command"]);
    expect(await admin.command("help")).toHaveLength(2);
  });

  it("ignores tags and prefix, upper-cases the verb, accepts LF-only lines and skips empty lines", async () => {
    admin.write("@label=abc :someone!x@y bouncerserv :help server\r\n");
    expect(await admin.readReply()).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
    admin.write("\r\n\nBOUNCERSERV :help server\n");
    expect(await admin.readReply()).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
  });

  it("handles several commands from one write, strictly in order", async () => {
    admin.write(
      "BOUNCERSERV :help server\r\nBOUNCERSERV :frobnicate\r\nBOUNCERSERV :help user run\r\n",
    );
    expect(await admin.readReply()).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
    expect(await admin.readReply()).toEqual(
      failed('command "frobnicate" not found (type "help" for a list of commands)'),
    );
    expect(await admin.readReply()).toEqual(
      ok("user run <username> <command>: run a command as another user"),
    );
  });

  it.each([["   "], ["@a=b"], [":foo"], ["@a=b :pfx"]])(
    "closes without a reply on the unparseable line %j",
    async (line) => {
      const client = await fx.admin(soju);
      client.write(`${line}\r\n`);
      expect(await client.readToEof()).toEqual([]);
    },
  );

  it.each([["CAP LS 302"], ["NICK bob"], ["USER bob 0 * :bob"], ["PASS secret1"]])(
    "closes on %j (soju 0.10.1 queues ERROR :This is not a regular IRC server, then drops it)",
    async (line) => {
      const client = await fx.admin(soju);
      client.write(`${line}\r\n`);
      expect(await client.readToEof()).toEqual([]);
    },
  );

  it("drops the reply when the client half-closes before reading it (soju closes on EOF)", async () => {
    const client = await fx.admin(soju);
    client.socket.end("BOUNCERSERV :user status\r\n");
    expect(await client.readToEof()).toEqual([]);
  });

  it("answers without waiting for a timer (soju's writer sends at once; real soju: 0.5 ms)", async () => {
    const client = await fx.admin(soju);
    // Timers frozen: a reply held back by a flush delay never comes, and the real-timer race fails.
    const realSetTimeout = globalThis.setTimeout;
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      client.write("BOUNCERSERV :user status\r\nBOUNCERSERV :help server\r\n");
      const replies = Promise.all([client.readReply(), client.readReply()]);
      const timedOut = new Promise<"timed out">((resolve) =>
        realSetTimeout(() => resolve("timed out"), 5_000),
      );
      const got = await Promise.race([replies, timedOut]);
      expect(got).not.toBe("timed out");
      expect((got as string[][]).map((r) => r.at(-1))).toEqual([
        ":soju.test BOUNCERSERV OK",
        ":soju.test BOUNCERSERV OK",
      ]);
    } finally {
      vi.useRealTimers();
      client.socket.destroy();
    }
  });

  it("answers an empty or blank command with FAIL no command specified", async () => {
    expect(await admin.command("")).toEqual(
      failed('no command specified (type "help" for a list of commands)'),
    );
    expect(await admin.command("   ")).toEqual(
      failed('no command specified (type "help" for a list of commands)'),
    );
  });
});

describe("command lookup and word splitting (facts §7.2)", () => {
  it("accepts unique prefixes and reports ambiguity", async () => {
    await admin.command("user create -username prefixer -password pw");
    const reply = await admin.command("us st prefixer");
    expect(reply).toEqual(ok("prefixer: 0 networks"));
    expect(await admin.command("s")).toEqual(
      failed('command "s" is ambiguous (type "help" for a list of commands)'),
    );
  });

  it("reports unknown commands, also through user run", async () => {
    await admin.command("user create -username lookup -password pw");
    expect(await admin.command("frobnicate now")).toEqual(
      failed('command "frobnicate" not found (type "help" for a list of commands)'),
    );
    expect(await admin.command("user run lookup frobnicate")).toEqual(
      failed('command "frobnicate" not found (type "help" for a list of commands)'),
    );
  });

  it("reports quoting errors", async () => {
    expect(await admin.command('user run "bob')).toEqual(
      failed("failed to parse command: unterminated quoted string"),
    );
    expect(await admin.command("user run bob \\")).toEqual(
      failed("failed to parse command: unterminated backslash sequence"),
    );
  });

  it("keeps soju's escaped-whitespace quirk and plain quoting", async () => {
    expect(await admin.command("user run a\\  b network status")).toEqual(
      failed('unknown username "a b"'),
    );
    expect(await admin.command("user run nosuchuser\\ ")).toEqual(
      failed("expected at least two arguments"),
    );
    expect(await admin.command('user run a"  "b network status')).toEqual(
      failed('unknown username "a  b"'),
    );
    expect(await admin.command("user run 'it''s' network status")).toEqual(
      failed('unknown username "its"'),
    );
    expect(await admin.command('user run "it\'s" network status')).toEqual(
      failed('unknown username "it\'s"'),
    );
  });

  it("stores values with spaces, quotes and backslashes exactly (round trip)", async () => {
    await admin.command("user create -username quoter -password pw");
    expect(
      await admin.command('user run quoter user update -realname "Bob O\'Builder \\"the 2nd\\""'),
    ).toEqual(ok('updated user "quoter"'));
    expect(
      await admin.command(
        "user run quoter network create -addr irc+insecure://127.0.0.1:1 -name q -enabled false",
      ),
    ).toEqual(ok('created network "q"'));
    expect(
      await admin.command("user run quoter network update q -realname 'Bob the Builder'"),
    ).toEqual(ok('updated network "q"'));
    expect(
      await admin.command(
        'user run quoter sasl set-plain -network q quoter "pw with \\"quotes\\", \\\\backslash and \'single\'"',
      ),
    ).toEqual(ok("credentials saved"));
    const [user] = await fx.sql(dbUrl, `SELECT realname FROM "User" WHERE username = 'quoter'`);
    expect(user?.realname).toBe('Bob O\'Builder "the 2nd"');
    const [net] = await fx.sql(
      dbUrl,
      `SELECT realname, sasl_plain_password, sasl_mechanism FROM "Network" WHERE name = 'q'`,
    );
    expect(net).toEqual({
      realname: "Bob the Builder",
      sasl_plain_password: "pw with \"quotes\", \\backslash and 'single'",
      sasl_mechanism: "PLAIN",
    });
  });

  it("applies Go flag semantics: -f=v, --f, stop at the first non-flag, string flags eat the next word", async () => {
    expect(
      await admin.command("user create --username=flagger -password -looks-like-a-flag"),
    ).toEqual(ok('created user "flagger"'));
    await admin.command(
      "user run flagger network create -addr irc+insecure://127.0.0.1:1 -name f -enabled=false",
    );
    expect(await admin.command("user run flagger network status")).toEqual(
      ok("f (irc+insecure://127.0.0.1:1) [disabled]"),
    );
    expect(
      await admin.command("user run flagger sasl set-plain -network f flagger -dashpw"),
    ).toEqual(ok("credentials saved"));
    const [net] = await fx.sql(dbUrl, `SELECT sasl_plain_password FROM "Network" WHERE name = 'f'`);
    expect(net?.sasl_plain_password).toBe("-dashpw");
    expect(await admin.command("user run flagger sasl set-plain -network f -- -a -b")).toEqual(
      ok("credentials saved"),
    );
    expect(await admin.command("user run flagger network update f -enabled")).toEqual(
      failed("flag needs an argument: -enabled"),
    );
    expect(await admin.command("user run flagger network update f -enabled maybe")).toEqual(
      failed(
        'invalid value "maybe" for flag -enabled: strconv.ParseBool: parsing "maybe": invalid syntax',
      ),
    );
    expect(await admin.command("user run flagger network update f -h")).toEqual(
      failed('unsupported flag (type "help network update" for a help message)'),
    );
  });
});

describe("user commands", () => {
  it("creates a user, refuses a duplicate, and writes a bcrypt cost-10 hash", async () => {
    expect(await admin.command("user create -username bob -password bobpass123")).toEqual(
      ok('created user "bob"'),
    );
    expect(await admin.command("user create -username bob -password bobpass123")).toEqual(
      failed('could not create user: user "bob" already exists'),
    );
    const [row] = await fx.sql(
      dbUrl,
      `SELECT password, admin, nick, realname, enabled, max_networks FROM "User" WHERE username = 'bob'`,
    );
    expect(row).toMatchObject({
      admin: false,
      nick: null,
      realname: null,
      enabled: true,
      max_networks: -1,
    });
    expect(String(row?.password)).toMatch(/^\$2a\$10\$/);
    expect(String(row?.password)).toHaveLength(60);
  });

  it("treats -admin and -enabled of user create as plain bool flags", async () => {
    expect(await admin.command("user create -username x -password y -bogus 1")).toEqual(
      failed("flag provided but not defined: -bogus"),
    );
    expect(await admin.command("user create -username x -password y -admin true")).toEqual(
      failed("unexpected argument: true"),
    );
    expect(await admin.command("user create -username x -password y -enabled false")).toEqual(
      failed("unexpected argument: false"),
    );
    expect(
      await admin.command(
        "user create -username boolish -password y -admin -enabled=false -max-networks 2",
      ),
    ).toEqual(ok('created user "boolish"'));
    expect(await admin.command("user status boolish")).toEqual(
      ok("boolish (admin, disabled): 0 networks (2 max)"),
    );
  });

  it("checks the required flags", async () => {
    expect(await admin.command("user create -password y")).toEqual(
      failed("flag -username is required"),
    );
    expect(await admin.command("user create -username z")).toEqual(
      failed("flag -password is required"),
    );
    expect(await admin.command("user create -username z -password y -disable-password")).toEqual(
      failed("flags -password and -disable-password are mutually exclusive"),
    );
    expect(await admin.command("user create -username nopw -disable-password")).toEqual(
      ok('created user "nopw"'),
    );
    const [row] = await fx.sql(dbUrl, `SELECT password FROM "User" WHERE username = 'nopw'`);
    expect(row?.password).toBeNull();
  });

  it("updates other users' password/admin/enabled but not their nick/realname", async () => {
    await admin.command("user create -username upd -password old-pass");
    const [before] = await fx.sql(dbUrl, `SELECT password FROM "User" WHERE username = 'upd'`);
    expect(await admin.command("user update upd -password new-pass -admin true")).toEqual(
      ok('updated user "upd"'),
    );
    const [after] = await fx.sql(
      dbUrl,
      `SELECT password, admin FROM "User" WHERE username = 'upd'`,
    );
    expect(after?.password).not.toBe(before?.password);
    expect(String(after?.password)).toMatch(/^\$2a\$10\$/);
    expect(after?.admin).toBe(true);
    expect(await admin.command("user update upd -realname R")).toEqual(
      failed("cannot update -realname of other user"),
    );
    expect(await admin.command("user update upd -nick N")).toEqual(
      failed("cannot update -nick of other user"),
    );
    expect(await admin.command("user update -password x")).toEqual(
      failed("cannot determine the user to update"),
    );
    expect(await admin.command("user update nosuch -admin true")).toEqual(
      failed('unknown username "nosuch"'),
    );
    expect(await admin.command("user run upd user update -admin false")).toEqual(
      failed("cannot update -admin of own user"),
    );
    expect(await admin.command("user run upd user update -nick upd2 -realname 'Up Dated'")).toEqual(
      ok('updated user "upd"'),
    );
    const [self] = await fx.sql(dbUrl, `SELECT nick, realname FROM "User" WHERE username = 'upd'`);
    expect(self).toEqual({ nick: "upd2", realname: "Up Dated" });
  });

  it("deletes a user only with the SHA-1 token", async () => {
    await admin.command("user create -username carla -password pw");
    await admin.command(
      "user run carla network create -addr irc+insecure://127.0.0.1:1 -name gone -enabled false",
    );
    // sha1("carla") = 3c5f7b8…; the token is its first 3 bytes in hex.
    const token = (await import("node:crypto"))
      .createHash("sha1")
      .update("carla")
      .digest("hex")
      .slice(0, 6);
    expect(await admin.command("user delete carla")).toEqual(
      ok(`To confirm user deletion, send "user delete carla ${token}"`),
    );
    expect(await admin.command("user delete carla 000000")).toEqual(
      failed("provided confirmation token doesn't match user"),
    );
    expect(await admin.command(`user delete carla ${token}`)).toEqual(ok('deleted user "carla"'));
    expect(await admin.command(`user delete carla ${token}`)).toEqual(
      failed('unknown username "carla"'),
    );
    expect(await fx.sql(dbUrl, `SELECT id FROM "User" WHERE username = 'carla'`)).toEqual([]);
    expect(await fx.sql(dbUrl, `SELECT id FROM "Network" WHERE name = 'gone'`)).toEqual([]);
    expect(await admin.command("user delete")).toEqual(failed("expected one or two arguments"));
  });

  it("needs a user for user-scoped commands and a command for user run", async () => {
    await admin.command("user create -username scoped -password pw");
    expect(await admin.command("network status")).toEqual(
      failed("this command must be run as a user (try running with user run)"),
    );
    expect(await admin.command("user run scoped")).toEqual(
      failed("expected at least two arguments"),
    );
    expect(await admin.command("user run nosuchuser network status")).toEqual(
      failed('unknown username "nosuchuser"'),
    );
    expect(await admin.command("user run scoped sasl status")).toEqual(
      failed("no network selected, -network is required"),
    );
    expect(await admin.command("user run scoped sasl status -network nope")).toEqual(
      failed('unknown network "nope"'),
    );
    expect(await admin.command("user run scoped network status")).toEqual(
      ok('No network configured, add one with "network create".'),
    );
    // v0.9+: user run runs as admin, so admin-only commands work through it.
    expect(await admin.command("user run scoped user status scoped")).toEqual(
      ok("scoped: 0 networks"),
    );
  });
});

describe("network and sasl commands", () => {
  it("follows the transcript of facts §7.5 up to the upstream connection", async () => {
    await admin.command("user create -username tina -password pw");
    const create =
      "user run tina network create -addr irc+insecure://127.0.0.1:1 -name irc.now -nick tina -username tina -enabled false";
    expect(await admin.command(create)).toEqual(ok('created network "irc.now"'));
    expect(await admin.command(create)).toEqual(
      failed('could not create network: a network with the name "irc.now" already exists'),
    );
    expect(
      await admin.command("user run tina sasl set-plain -network irc.now tina Tina-pw1"),
    ).toEqual(ok("credentials saved"));
    expect(await admin.command("user run tina sasl status -network irc.now")).toEqual(
      ok('SASL PLAIN enabled with username "tina"', "Disconnected from upstream network"),
    );
    expect(await admin.command("user run tina network status")).toEqual(
      ok("irc.now (irc+insecure://127.0.0.1:1) [disabled]"),
    );
    const [row] = await fx.sql(
      dbUrl,
      `SELECT name, nick, username, enabled, sasl_mechanism, sasl_plain_username, sasl_plain_password,
      realname, pass, certfp, connect_commands FROM "Network" WHERE name = 'irc.now' AND addr = 'irc+insecure://127.0.0.1:1'`,
    );
    expect(row).toEqual({
      name: "irc.now",
      nick: "tina",
      username: "tina",
      enabled: false,
      sasl_mechanism: "PLAIN",
      sasl_plain_username: "tina",
      sasl_plain_password: "Tina-pw1",
      realname: null,
      pass: null,
      certfp: null,
      connect_commands: null,
    });
    expect(await admin.command("user run tina sasl reset -network irc.now")).toEqual(
      ok("credentials reset"),
    );
    const [reset] = await fx.sql(
      dbUrl,
      `SELECT sasl_mechanism, sasl_plain_username, sasl_plain_password, sasl_external_cert,
      sasl_external_key FROM "Network" WHERE name = 'irc.now' AND nick = 'tina'`,
    );
    expect(Object.values(reset ?? {})).toEqual([null, null, null, null, null]);
    expect(await admin.command("user run tina sasl status -network irc.now")).toEqual(
      ok("SASL is disabled", "Disconnected from upstream network"),
    );
  });

  it("validates addr and name", async () => {
    await admin.command("user create -username val -password pw");
    expect(
      await admin.command("user run val network create -addr irc://127.0.0.1:16667 -name x"),
    ).toEqual(failed('unknown scheme "irc" (supported schemes: ircs, irc+insecure, unix)'));
    expect(
      await admin.command("user run val network create -addr irc+unix:///tmp/x -name x"),
    ).toEqual(failed('unknown scheme "irc+unix" (supported schemes: ircs, irc+insecure, unix)'));
    expect(await admin.command("user run val network create -name x")).toEqual(
      failed("flag -addr is required"),
    );
    expect(
      await admin.command("user run val network create -addr irc+insecure://h:1 -name '*'"),
    ).toEqual(failed('the network name "*" is reserved'));
    expect(await admin.command("user run val network create -addr irc+insecure://u:p@h:1")).toEqual(
      failed(
        "could not create network: irc+insecure:// URL must not have username and password information",
      ),
    );
    expect(
      await admin.command("user run val network create -addr irc+insecure://h:1 extra"),
    ).toEqual(failed("unexpected argument: extra"));
    // A network without a name is named after its address.
    expect(
      await admin.command("user run val network create -addr irc.example.org -enabled false"),
    ).toEqual(ok('created network "irc.example.org"'));
    expect(await admin.command("user run val network status")).toEqual(
      ok("irc.example.org [disabled]"),
    );
    const [row] = await fx.sql(
      dbUrl,
      `SELECT name, nick FROM "Network" WHERE addr = 'irc.example.org'`,
    );
    expect(row).toEqual({ name: null, nick: null });
  });

  it("shows a connection error for a network that cannot connect, deletes it, then reports it unknown", async () => {
    await admin.command("user create -username dead -password pw");
    await admin.command("user run dead network create -addr irc+insecure://127.0.0.1:1 -name dead");
    const status = await waitFor(async () => {
      const reply = await admin.command("user run dead network status");
      return reply[0]?.includes("connection error") ? reply : undefined;
    }, "a connection error");
    expect(status).toEqual(
      ok(
        "dead (irc+insecure://127.0.0.1:1) [disconnected]: connection error: failed to connect: dial tcp 127.0.0.1:1: connect: connection refused",
      ),
    );
    expect(await admin.command("user run dead network delete dead")).toEqual(
      ok('deleted network "dead"'),
    );
    expect(await admin.command("user run dead network delete dead")).toEqual(
      failed('unknown network "dead"'),
    );
    expect(await admin.command("user run dead network delete")).toEqual(
      failed("expected exactly one argument"),
    );
  });

  it("enforces max-networks on enabled networks, unless -ignore-limit", async () => {
    await admin.command("user create -username lim -password pw -max-networks 1");
    expect(
      await admin.command("user run lim network create -addr irc+insecure://127.0.0.1:1 -name a"),
    ).toEqual(ok('created network "a"'));
    expect(
      await admin.command("user run lim network create -addr irc+insecure://127.0.0.1:1 -name b"),
    ).toEqual(failed("could not create network: maximum number of enabled networks reached"));
    expect(
      await admin.command(
        "user run lim network create -addr irc+insecure://127.0.0.1:1 -name c -enabled false",
      ),
    ).toEqual(ok('created network "c"'));
    expect(
      await admin.command(
        "user run lim network create -addr irc+insecure://127.0.0.1:1 -name d -ignore-limit",
      ),
    ).toEqual(ok('created network "d"'));
  });

  it("server status counts users, networks and channels", async () => {
    const [counts] = await fx.sql<{ users: string; networks: string; channels: string }>(
      dbUrl,
      `SELECT (SELECT count(*) FROM "User") AS users, (SELECT count(*) FROM "Network") AS networks, (SELECT count(*) FROM "Channel") AS channels`,
    );
    const reply = await admin.command("server status");
    expect(reply).toHaveLength(2);
    expect(reply[0]).toMatch(
      new RegExp(
        `^:soju\\.test PRIVMSG \\* :${counts?.users}/${counts?.users} users, 0 downstreams, \\d+ upstreams, ${counts?.networks} networks, ${counts?.channels} channels$`,
      ),
    );
  });
});

describe("channel commands (v0.9+ channel create)", () => {
  it("creates, lists, updates and deletes saved channels", async () => {
    await admin.command("user create -username chan -password pw");
    await admin.command(
      "user run chan network create -addr irc+insecure://127.0.0.1:1 -name n -enabled false",
    );
    expect(await admin.command("user run chan channel status")).toEqual(
      ok("No channel configured."),
    );
    expect(await admin.command("user run chan channel create #portal/n -detached true")).toEqual(
      ok('created channel "#portal"'),
    );
    expect(await admin.command("user run chan channel create #portal/n")).toEqual(
      failed('channel "#portal" already exists'),
    );
    expect(await admin.command("user run chan channel create #portal")).toEqual(
      failed("missing network name"),
    );
    expect(await admin.command("user run chan channel create #portal/x")).toEqual(
      failed('unknown network "x"'),
    );
    // "not a channel name" needs a connected upstream (soju-0.10.1.test.ts)
    expect(await admin.command("user run chan channel status")).toEqual(
      ok("#portal/n [disconnected, detached]"),
    );
    expect(await admin.command("user run chan channel status -network n")).toEqual(
      ok("#portal [disconnected, detached]"),
    );
    expect(
      await admin.command(
        "user run chan channel update #portal/n -detached false -detach-after 1h30m",
      ),
    ).toEqual(ok('updated channel "#portal"'));
    expect(await admin.command("user run chan channel update #nochan/n -detached true")).toEqual(
      failed('unknown channel "#nochan"'),
    );
    const [row] = await fx.sql(
      dbUrl,
      `SELECT name, key, detached, detach_after FROM "Channel" WHERE name = '#portal'`,
    );
    expect(row).toEqual({ name: "#portal", key: null, detached: false, detach_after: 5400 });
    expect(await admin.command("user run chan channel delete #portal/n")).toEqual(
      ok('deleted channel "#portal"'),
    );
    expect(await admin.command("user run chan channel delete #portal/n")).toEqual(
      failed('failed to delete channel: unknown channel "#portal"'),
    );
    expect(await admin.command("user run chan help channel")).toEqual(
      ok("available commands: channel create, channel delete, channel status, channel update"),
    );
  });
});
