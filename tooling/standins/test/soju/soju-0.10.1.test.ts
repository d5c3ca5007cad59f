import { realPeersRequested, startSoju } from "@irc-now/peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin } from "../../src/ergo";
import { failed, ok, RawClient, SojuFixture, waitFor } from "./helpers";

/**
 * Behaviour of the real soju 0.10.1 (the peers kit) where the stand-in used to disagree. In
 * `npm test` these cases pin the stand-in; `npm run test:peers` (REAL_PEERS=1) runs the very same
 * cases against the real soju, so the pins stay true to it.
 */

interface Target {
  adminSocketPath: string;
  /** The downstream IRC listener. */
  port: number;
}

const fx = new SojuFixture();
let soju: Target;
let admin: RawClient;

beforeAll(async () => {
  await fx.setup();
  const databaseUrl = await fx.database();
  if (realPeersRequested()) {
    const real = await startSoju({ databaseUrl });
    fx.onCleanup(() => real.stop());
    soju = real;
  } else {
    const standin = await fx.soju({ databaseUrl, downstream: { port: 0 } });
    soju = {
      adminSocketPath: standin.adminSocketPath,
      port: standin.downstreamAddress?.port ?? 0,
    };
  }
  admin = await fx.admin(soju);
  expect(await admin.command("user create -username bob -password pw-bob")).toEqual(
    ok('created user "bob"'),
  );
  expect(await admin.command("user create -username adm -password pw-adm -admin")).toEqual(
    ok('created user "adm"'),
  );
});
afterAll(() => fx.teardown());

/** Waits until `network status` of `user` shows `name` with a connection error; returns the line. */
async function connectionError(user: string, name: string): Promise<string> {
  return waitFor(async () => {
    const reply = await admin.command(`user run ${user} network status`);
    return reply.find((l) => l.includes(` :${name} (`) && l.includes("connection error"));
  }, `a connection error for ${name}`);
}

describe("soju 0.10.1: BouncerServ", () => {
  it("help texts", async () => {
    expect(await admin.command("help user create")).toEqual(
      ok(
        "user create -username <username> -password <password> [-disable-password] [-admin true|false] [-nick <nick>] [-realname <realname>] [-enabled true|false]  [-max-networks <max-networks>]: create a new soju user",
      ),
    );
    for (const [sub, desc] of [
      ["create", "-addr <addr> [-name name]"],
      ["update", "[name] [-addr addr] [-name name]"],
    ] as const) {
      const [line] = await admin.command(`help network ${sub}`);
      expect(line).toContain(`network ${sub} ${desc}`);
      expect(line).toContain(
        "[-enabled enabled] [-ignore-limit ignore-limit] [-connect-command command]...",
      );
    }
    expect(await admin.command("help channel create")).toEqual(
      ok(
        "channel create <name> [-detached true|false] [-relay-detached default|none|highlight|message] [-reattach-on default|none|highlight|message] [-detach-after <duration>] [-detach-on default|none|highlight|message]: create a channel",
      ),
    );
    expect(await admin.command("help server")).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
    expect(await admin.command("help server debug")).toEqual(
      ok(
        "server debug true|false: enable/disable debug logging to stderr (will leak sensitive information)",
      ),
    );
  });

  it("server debug takes exactly one argument", async () => {
    expect(await admin.command("server debug")).toEqual(failed("expected exactly one argument"));
    expect(await admin.command("server debug false")).toEqual(ok());
  });

  it("-h names the command in its hint", async () => {
    expect(await admin.command("user run bob network create -h")).toEqual(
      failed('unsupported flag (type "help network create" for a help message)'),
    );
    expect(await admin.command("user update -h")).toEqual(
      failed('unsupported flag (type "help user update" for a help message)'),
    );
  });

  it("a unix address is for admin users only", async () => {
    expect(
      await admin.command("user run bob network create -addr unix:///nonexistent/sock -name u"),
    ).toEqual(
      failed("could not create network: non-admin users cannot add networks with a unix address"),
    );
    expect(
      await admin.command("user run adm network create -addr unix:///nonexistent/sock -name u"),
    ).toEqual(ok('created network "u"'));
    expect(await connectionError("adm", "u")).toBe(
      ':soju.test PRIVMSG * :u (unix:///nonexistent/sock) [disconnected]: connection error: failed to connect: failed to connect to Unix socket "/nonexistent/sock": dial unix /nonexistent/sock: connect: no such file or directory',
    );
  });

  it("URL errors are Go's url.Parse texts", async () => {
    const parse = (addr: string) =>
      admin.command(`user run bob network create -addr "${addr}" -name bad`);
    const failure = (addr: string, why: string) =>
      failed(
        `could not create network: failed to parse upstream server URL: parse "${addr}": ${why}`,
      );
    expect(await parse("irc+insecure://a b")).toEqual(
      failure("irc+insecure://a b", 'invalid character " " in host name'),
    );
    expect(await parse("irc+insecure://[::1")).toEqual(
      failure("irc+insecure://[::1", "missing ']' in host"),
    );
    expect(await parse("irc+insecure://127.0.0.1:6667x")).toEqual(
      failure("irc+insecure://127.0.0.1:6667x", 'invalid port ":6667x" after host'),
    );
    expect(await parse("%")).toEqual(failure("ircs://%", 'invalid URL escape "%"'));
  });

  it("dial errors: refused, a port out of range, a certificate from an unknown authority", async () => {
    const tlsErgo = await startErgoStandin({ tls: true });
    fx.onCleanup(() => tlsErgo.stop());
    for (const [name, addr] of [
      ["refused", "irc+insecure://127.0.0.1:1"],
      ["bigport", "irc+insecure://127.0.0.1:99999"],
      ["selfsigned", `ircs://127.0.0.1:${tlsErgo.ircsPort}`],
    ]) {
      expect(
        await admin.command(`user run bob network create -addr ${addr} -name ${name}`),
      ).toEqual(ok(`created network "${name}"`));
    }
    const prefix = ":soju.test PRIVMSG * :";
    expect(await connectionError("bob", "refused")).toBe(
      `${prefix}refused (irc+insecure://127.0.0.1:1) [disconnected]: connection error: failed to connect: dial tcp 127.0.0.1:1: connect: connection refused`,
    );
    expect(await connectionError("bob", "bigport")).toBe(
      `${prefix}bigport (irc+insecure://127.0.0.1:99999) [disconnected]: connection error: failed to connect: dial tcp: address 99999: invalid port`,
    );
    expect(await connectionError("bob", "selfsigned")).toBe(
      `${prefix}selfsigned (ircs://127.0.0.1:${tlsErgo.ircsPort}) [disconnected]: connection error: failed to register: failed to read message: tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    );
    for (const name of ["refused", "bigport", "selfsigned"])
      await admin.command(`user run bob network delete ${name}`);
  });

  it("channel create: the name is checked (and named unquoted) only while connected", async () => {
    const upstream = await startErgoStandin();
    fx.onCleanup(() => upstream.stop());
    await admin.command(
      "user run bob network create -addr irc+insecure://127.0.0.1:1 -name offline -enabled false",
    );
    expect(await admin.command("user run bob channel create nochan/offline")).toEqual(
      ok('created channel "nochan"'),
    );
    await admin.command(
      `user run bob network create -addr irc+insecure://127.0.0.1:${upstream.ircPort} -name online -nick bobby`,
    );
    await waitFor(async () => {
      const reply = await admin.command("user run bob network status");
      return reply.some((l) => l.includes(":online (") && l.includes("[connected]")) || undefined;
    }, "the online network connected");
    expect(await admin.command("user run bob channel create nochan/online")).toEqual(
      failed("not a channel name: nochan"),
    );
  });
});

describe("soju 0.10.1: admin socket", () => {
  it("closes on CAP, NICK, USER and PASS (its ERROR line, queued just before, rarely arrives)", async () => {
    for (const line of ["CAP LS 302", "NICK bob", "USER bob 0 * :bob", "PASS secret1"]) {
      const client = await fx.admin(soju);
      client.write(`${line}\r\n`);
      const rest = await client.readToEof();
      expect([[], ["ERROR :This is not a regular IRC server"]]).toContainEqual(rest);
    }
  });

  it("takes a PROXY protocol header (v1) before the commands", async () => {
    const client = await fx.admin(soju);
    client.write("PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\nBOUNCERSERV :help server\r\n");
    expect(await client.readReply()).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );
  });

  it("first bytes that could start a PROXY header (P or CR) are held until there are 12", async () => {
    const client = await fx.admin(soju);
    client.write("PING :x\r\n"); // 9 bytes
    await new Promise((r) => setTimeout(r, 500));
    expect(client.raw.toString("utf8")).toBe("");
    client.write("BOUNCERSERV :help server\r\n");
    expect(await client.readReply()).toEqual([":soju.test 421 * PING :Unknown command"]);
    expect(await client.readReply()).toEqual(
      ok("available commands: server debug, server notice, server status"),
    );

    const long = await fx.admin(soju);
    long.write("PING :abcde\r\n"); // 13 bytes: answered at once
    expect(await long.readReply()).toEqual([":soju.test 421 * PING :Unknown command"]);
    long.write("PING :x\r\n"); // later lines are never held
    expect(await long.readReply()).toEqual([":soju.test 421 * PING :Unknown command"]);
  });
});

describe("soju 0.10.1: downstream login", () => {
  /** Sends `lines` on a fresh connection; returns every line until EOF, 422 or `until`. */
  async function login(lines: string[], until?: (line: string) => boolean): Promise<string[]> {
    const client = await RawClient.connect({ host: "127.0.0.1", port: soju.port });
    fx.onCleanup(async () => client.close());
    client.write(lines.map((l) => `${l}\r\n`).join(""));
    const seen: string[] = [];
    for (;;) {
      const line = await client.readLine();
      if (line === null) return seen;
      seen.push(line);
      if (/ 422 /.test(line) || until?.(line)) return seen;
    }
  }
  const plain = (user: string, password: string) =>
    Buffer.from(`\0${user}\0${password}`).toString("base64");
  const isCapLs = (l: string) => / CAP \* LS /.test(l);

  it("PASS: 464 Invalid credentials for a wrong password or an unknown user", async () => {
    for (const [user, password] of [
      ["bob", "wrong"],
      ["nobody", "wrong"],
    ]) {
      expect(await login([`PASS ${password}`, `NICK ${user}`, `USER ${user} 0 * :x`])).toEqual([
        ":soju.test 464 * :Invalid credentials",
      ]);
    }
  });

  it("no login at all: 464 Authentication required, or FAIL ACCOUNT_REQUIRED once sasl is enabled", async () => {
    expect(await login(["NICK bob", "USER bob 0 * :x"])).toEqual([
      ":soju.test 464 * :Authentication required",
    ]);
    expect(await login(["CAP LS 302", "NICK bob", "USER bob 0 * :x", "CAP END"])).toEqual([
      expect.stringMatching(/ CAP \* LS /),
      ":soju.test 464 * :Authentication required",
    ]);
    expect(await login(["CAP REQ :sasl", "NICK bob", "USER bob 0 * :x", "CAP END"])).toEqual([
      ":soju.test CAP * ACK sasl",
      ":soju.test FAIL * ACCOUNT_REQUIRED :Authentication required",
    ]);
  });

  it("before registration: CAP replies go to *, unknown commands get 421, AUTHENTICATE needs the cap", async () => {
    const lines = await login(
      [
        "NICK bob",
        "FOO",
        "AUTHENTICATE PLAIN",
        "CAP REQ :sasl",
        "CAP LIST",
        "USER bob 0 * :x",
        "CAP END",
      ],
      (l) => / FAIL /.test(l),
    );
    expect(lines).toEqual([
      ":soju.test 421 * FOO :Unknown command",
      ':soju.test 904 * :AUTHENTICATE requires the "sasl" capability to be enabled',
      ":soju.test CAP * ACK sasl",
      ":soju.test CAP * LIST sasl",
      ":soju.test FAIL * ACCOUNT_REQUIRED :Authentication required",
    ]);
  });

  it("SASL: other mechanisms are unsupported, * aborts", async () => {
    const lines = await login(
      ["CAP REQ :sasl", "AUTHENTICATE EXTERNAL", "AUTHENTICATE *", "NICK bob", "USER bob 0 * :x"],
      (l) => / 906 /.test(l),
    );
    expect(lines).toEqual([
      ":soju.test CAP * ACK sasl",
      ":soju.test 904 * :Unsupported SASL mechanism",
      ":soju.test 906 * :SASL authentication aborted",
    ]);
  });

  it("SASL PLAIN: the burst has no 003, 005 goes to *, and 900 comes before 422", async () => {
    const lines = (
      await login([
        "CAP LS 302",
        "NICK bob",
        "USER bob 0 * :x",
        "CAP REQ :sasl",
        "AUTHENTICATE PLAIN",
        `AUTHENTICATE ${plain("bob", "pw-bob")}`,
        "CAP END",
      ])
    ).filter((l) => !isCapLs(l));
    expect(lines).toEqual([
      ":soju.test CAP * ACK sasl",
      "AUTHENTICATE +",
      ":soju.test 903 * :SASL authentication successful",
      ":soju.test 001 bob :Welcome to soju, bob",
      ":soju.test 002 bob :Your host is soju.test",
      ":soju.test 004 bob soju.test soju aiwroO OovaimnqpsrtklbeI",
      ":soju.test 005 * soju.im/SAFERATE BOT=B CASEMAPPING=ascii WHOX CHANTYPES= LINELEN=4096 :are supported",
      ":soju.test 900 bob bob!bob@127.0.0.1 bob :You are logged in as bob",
      ":soju.test 422 bob :No MOTD",
    ]);
  });

  it("SASL PLAIN with a wrong password: 904, then FAIL ACCOUNT_REQUIRED", async () => {
    const lines = (
      await login(
        [
          "CAP LS 302",
          "NICK bob",
          "USER bob 0 * :x",
          "CAP REQ :sasl",
          "AUTHENTICATE PLAIN",
          `AUTHENTICATE ${plain("bob", "nope")}`,
          "CAP END",
        ],
        (l) => / FAIL /.test(l),
      )
    ).filter((l) => !isCapLs(l));
    expect(lines).toEqual([
      ":soju.test CAP * ACK sasl",
      "AUTHENTICATE +",
      ":soju.test 904 * :Authentication failed",
      ":soju.test FAIL * ACCOUNT_REQUIRED :Authentication required",
    ]);
  });
});

/**
 * What the worker's suspensions rely on (apps/worker/src/billing): `user update <u> -enabled false`
 * from the admin socket. Recorded on soju 0.10.1: a client already connected is closed without a
 * word, the upstream connection drops (`[disconnected]`), a new login gets `ERROR :This bouncer
 * account is disabled` (after PASS, or after SASL's 903 at CAP END); `-enabled true` reconnects
 * upstream and logins work again. Real soju leaves the refused connection open after the ERROR
 * (it was still open 3 s later); the stand-in closes it. Only the lines are pinned here.
 */
describe("soju 0.10.1: a disabled user (user update -enabled, what the worker's suspensions send)", () => {
  async function welcome(user: string, password: string): Promise<RawClient> {
    const client = await RawClient.connect({ host: "127.0.0.1", port: soju.port });
    fx.onCleanup(async () => client.close());
    client.write(`PASS ${password}\r\nNICK ${user}\r\nUSER ${user} 0 * :x\r\n`);
    for (;;) {
      const line = await client.readLine();
      if (line === null) throw new Error(`closed before the welcome of ${user}`);
      if (/ 422 /.test(line)) return client;
    }
  }
  /** Sends `lines` on a fresh connection; the lines up to soju's ERROR (or EOF, or 422). */
  async function refused(lines: string[]): Promise<string[]> {
    const client = await RawClient.connect({ host: "127.0.0.1", port: soju.port });
    fx.onCleanup(async () => client.close());
    client.write(lines.map((l) => `${l}\r\n`).join(""));
    const seen: string[] = [];
    for (let line = await client.readLine(); line !== null; line = await client.readLine()) {
      seen.push(line);
      if (line.startsWith("ERROR") || / 422 /.test(line)) break;
    }
    return seen;
  }
  const upStatus = async (user: string) =>
    (await admin.command(`user run ${user} network status`)).filter((l) => l.includes(":up ("));

  it("-enabled false closes the clients, drops upstream and refuses logins; -enabled true undoes it", async () => {
    const upstream = await startErgoStandin();
    fx.onCleanup(() => upstream.stop());
    const addr = `irc+insecure://127.0.0.1:${upstream.ircPort}`;
    expect(await admin.command("user create -username dis -password pw-dis")).toEqual(
      ok('created user "dis"'),
    );
    expect(
      await admin.command(`user run dis network create -addr ${addr} -name up -nick disnick`),
    ).toEqual(ok('created network "up"'));
    await waitFor(
      async () => (await upStatus("dis")).some((l) => l.includes("[connected]")) || undefined,
      "dis connected upstream",
    );
    const client = await welcome("dis", "pw-dis");

    expect(await admin.command("user update dis -enabled false")).toEqual(ok('updated user "dis"'));
    expect(await client.readLine()).toBeNull(); // closed, no ERROR line first
    expect(await upStatus("dis")).toEqual([`:soju.test PRIVMSG * :up (${addr}) [disconnected]`]);
    await waitFor(
      () => !upstream.clients().some((c) => c.nick === "disnick") || undefined,
      "ergo lost dis's connection",
    );
    expect(await admin.command("user status")).toContain(
      ":soju.test PRIVMSG * :dis (disabled): 1 networks",
    );
    expect(await refused(["PASS pw-dis", "NICK dis", "USER dis 0 * :x"])).toEqual([
      "ERROR :This bouncer account is disabled",
    ]);
    const plain = Buffer.from("\0dis\0pw-dis").toString("base64");
    expect(
      await refused([
        "CAP REQ :sasl",
        "AUTHENTICATE PLAIN",
        `AUTHENTICATE ${plain}`,
        "NICK dis",
        "USER dis 0 * :x",
        "CAP END",
      ]),
    ).toEqual([
      ":soju.test CAP * ACK sasl",
      "AUTHENTICATE +",
      ":soju.test 903 * :SASL authentication successful",
      "ERROR :This bouncer account is disabled",
    ]);
    // Only for other users, and the boolean needs its value (or `=`).
    expect(await admin.command("user run dis user update -enabled true")).toEqual(
      failed("cannot update -enabled of own user"),
    );
    expect(await admin.command("user update dis -enabled")).toEqual(
      failed("flag needs an argument: -enabled"),
    );
    expect(await admin.command("user update dis -enabled=false")).toEqual(ok('updated user "dis"'));

    expect(await admin.command("user update dis -enabled true")).toEqual(ok('updated user "dis"'));
    await waitFor(
      async () => (await upStatus("dis")).some((l) => l.includes("[connected]")) || undefined,
      "dis connected upstream again",
    );
    (await welcome("dis", "pw-dis")).close();
  });
});
