import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo";
import type { SojuStandin } from "../../src/soju";
import { ok, RawClient, SojuFixture, waitFor } from "./helpers";

const fx = new SojuFixture();
let ergo: ErgoStandin;
let soju: SojuStandin;
let addr: string;
let dbUrl: string;

beforeAll(async () => {
  await fx.setup();
  ergo = await startErgoStandin();
  fx.onCleanup(() => ergo.stop());
  addr = `irc+insecure://127.0.0.1:${ergo.ircPort}`;
  dbUrl = await fx.database();
  soju = await fx.soju({ databaseUrl: dbUrl });
});
afterAll(() => fx.teardown());

/** WHOIS from a separate plain IRC client, as the worker's verifier would do (facts/ergo.md). */
async function whois(nick: string): Promise<string[]> {
  const client = await RawClient.connect({ host: ergo.ircHost, port: ergo.ircPort });
  try {
    client.write("NICK checker\r\nUSER checker 0 * :checker\r\n");
    await waitFor(
      async () => ((await client.readLine()) ?? "").includes(" 001 ") || undefined,
      "ergo welcome",
    );
    client.write(`WHOIS ${nick}\r\n`);
    const lines: string[] = [];
    for (;;) {
      const line = await client.readLine();
      if (line === null) break;
      if (/ (311|312|317|318|319|301|330|401|671) /.test(line)) lines.push(line);
      if (line.includes(" 318 ")) break;
    }
    return lines;
  } finally {
    client.close();
  }
}

async function statusUntil(
  admin: RawClient,
  user: string,
  predicate: (line: string) => boolean,
): Promise<string[]> {
  return waitFor(async () => {
    const reply = await admin.command(`user run ${user} network status`);
    return predicate(reply[0] ?? "") ? reply : undefined;
  }, `network status of ${user}`);
}

describe("upstream SASL over the admin socket (facts §6, §7.5)", () => {
  it("network create -enabled false + sasl set-plain + network update -enabled true logs in: WHOIS shows 330", async () => {
    await ergo.registerAccount("bob", "Bob-ergo-pw1");
    const admin = await fx.admin(soju);
    expect(await admin.command("user create -username bob -password bobpass123")).toEqual(
      ok('created user "bob"'),
    );
    expect(
      await admin.command(
        `user run bob network create -addr ${addr} -name irc.now -nick bob -username bob -enabled false`,
      ),
    ).toEqual(ok('created network "irc.now"'));
    expect(
      await admin.command("user run bob sasl set-plain -network irc.now bob Bob-ergo-pw1"),
    ).toEqual(ok("credentials saved"));
    expect(await admin.command("user run bob sasl status -network irc.now")).toEqual(
      ok('SASL PLAIN enabled with username "bob"', "Disconnected from upstream network"),
    );
    expect(await admin.command("user run bob network update irc.now -enabled true")).toEqual(
      ok('updated network "irc.now"'),
    );

    expect(await statusUntil(admin, "bob", (l) => l.includes("[connected]"))).toEqual(
      ok(`irc.now (${addr}) [connected]: 0 channels`),
    );
    expect(await admin.command("user run bob sasl status -network irc.now")).toEqual(
      ok(
        'SASL PLAIN enabled with username "bob"',
        'Authenticated on upstream network with account "bob"',
      ),
    );
    const lines = await whois("bob");
    expect(lines).toContain(":ergo.test 330 checker bob bob :is logged in as");
    // ergo 2.15 offers draft/pre-away, so soju auto-aways with `AWAY *`: not shown as away
    expect(lines.some((l) => / 301 /.test(l))).toBe(false);
    expect(ergo.whoisAccount("bob")).toBe("bob");
  });

  it("a wrong SASL password registers anyway, unauthenticated, under the fallback nick", async () => {
    await ergo.registerAccount("dave", "Dave-ergo-pw1");
    const admin = await fx.admin(soju);
    await admin.command("user create -username dave -password davepw");
    await admin.command(
      `user run dave network create -addr ${addr} -name irc.now -nick dave -username dave -enabled false`,
    );
    expect(
      await admin.command("user run dave sasl set-plain -network irc.now dave Wrong-pw-999"),
    ).toEqual(ok("credentials saved"));
    expect(await admin.command("user run dave network status")).toEqual(
      ok(`irc.now (${addr}) [disabled]`),
    );
    expect(await admin.command("user run dave sasl status -network irc.now")).toEqual(
      ok('SASL PLAIN enabled with username "dave"', "Disconnected from upstream network"),
    );
    await admin.command("user run dave network update irc.now -enabled true");
    expect(await statusUntil(admin, "dave", (l) => l.includes("[connected]"))).toEqual(
      ok(`irc.now (${addr}) [connected]: 0 channels`),
    );
    expect(await admin.command("user run dave sasl status -network irc.now")).toEqual(
      ok('SASL PLAIN enabled with username "dave"', "Unauthenticated on upstream network"),
    );
    expect(soju.upstreamStatus("dave", "irc.now")).toEqual({
      state: "connected",
      nick: "dave_",
      account: "",
    });
    expect(ergo.whoisAccount("dave_")).toBeNull();
  });

  it("reconnects after the upstream drops it, and on network update", async () => {
    await ergo.registerAccount("rita", "Rita-pw-1");
    const admin = await fx.admin(soju);
    await admin.command("user create -username rita -password ritapw");
    await admin.command(
      `user run rita network create -addr ${addr} -name irc.now -nick rita -enabled false`,
    );
    await admin.command("user run rita sasl set-plain -network irc.now rita Rita-pw-1");
    await admin.command("user run rita network update irc.now -enabled true");
    await waitFor(
      () => (ergo.whoisAccount("rita") === "rita" ? true : undefined),
      "rita logged in",
    );

    // restart() drops every connection before it resolves, so a login seen afterwards is a
    // reconnection (soju's first retry is immediate: its "disconnected" state may be too short to poll).
    await ergo.restart();
    expect(ergo.whoisAccount("rita")).toBeNull();
    await waitFor(
      () => (ergo.whoisAccount("rita") === "rita" ? true : undefined),
      "rita logged in again",
    );
    // Everyone else reconnected too; wait until bob is back before the next test relies on him.
    await waitFor(
      () => (ergo.whoisAccount("bob") === "bob" ? true : undefined),
      "bob logged in again",
    );

    expect(
      await admin.command("user run rita network update irc.now -realname 'Rita Reconnected'"),
    ).toEqual(ok('updated network "irc.now"'));
    const client = await waitFor(
      () => ergo.clients().find((c) => c.account === "rita" && c.realname === "Rita Reconnected"),
      "rita reconnected with the new realname",
    );
    expect(client.nick).toBe("rita");
    expect(soju.upstreamStatus("rita", "irc.now")).toEqual({
      state: "connected",
      nick: "rita",
      account: "rita",
    });
  });

  it("channel create joins the channel upstream; network and channel status show it", async () => {
    const admin = await fx.admin(soju);
    await statusUntil(admin, "bob", (l) => l.includes("[connected]"));
    expect(await admin.command("user run bob channel create #lobby/irc.now")).toEqual(
      ok('created channel "#lobby"'),
    );
    expect(await statusUntil(admin, "bob", (l) => l.endsWith(": 1 channels"))).toEqual(
      ok(`irc.now (${addr}) [connected]: 1 channels`),
    );
    expect(await admin.command("user run bob channel status")).toEqual(
      ok("#lobby/irc.now [joined]"),
    );
    expect(await admin.command("user run bob channel delete #lobby/irc.now")).toEqual(
      ok('deleted channel "#lobby"'),
    );
    expect(await statusUntil(admin, "bob", (l) => l.endsWith(": 0 channels"))).toEqual(
      ok(`irc.now (${addr}) [connected]: 0 channels`),
    );
  });

  it("disabling the network disconnects it", async () => {
    const admin = await fx.admin(soju);
    expect(await admin.command("user run dave network update irc.now -enabled false")).toEqual(
      ok('updated network "irc.now"'),
    );
    expect(await admin.command("user run dave network status")).toEqual(
      ok(`irc.now (${addr}) [disabled]`),
    );
    await waitFor(
      () => (ergo.clients().some((c) => c.nick === "dave_") ? undefined : true),
      "dave_ to leave ergo",
    );
  });
});

describe("restart() re-reads the DB and reconnects (the sql-restart path)", () => {
  it("connects a network row written into the DB only after restart, and logs it in", async () => {
    await ergo.registerAccount("sam", "Sam-pw-1");
    const admin = await fx.admin(soju);
    await admin.command("user create -username sam -password sampw");
    const [sam] = await fx.sql<{ id: number }>(
      dbUrl,
      `SELECT id FROM "User" WHERE username = 'sam'`,
    );
    await fx.sql(
      dbUrl,
      `INSERT INTO "Network" ("user", name, addr, nick, username, sasl_mechanism, sasl_plain_username, sasl_plain_password, enabled)
        VALUES ($1, 'irc.now', $2, 'sam', 'sam', 'PLAIN', 'sam', 'Sam-pw-1', true)`,
      [sam?.id, addr],
    );
    expect(await admin.command("user run sam network status")).toEqual(
      ok('No network configured, add one with "network create".'),
    );
    expect(ergo.whoisAccount("sam")).toBeNull();

    await soju.restart();
    await waitFor(
      () => (ergo.whoisAccount("sam") === "sam" ? true : undefined),
      "sam logged in after restart",
    );
    const fresh = await fx.admin(soju);
    expect(await statusUntil(fresh, "sam", (l) => l.includes("[connected]"))).toEqual(
      ok(`irc.now (${addr}) [connected]: 0 channels`),
    );
    expect(await fresh.command("user run sam sasl status -network irc.now")).toEqual(
      ok(
        'SASL PLAIN enabled with username "sam"',
        'Authenticated on upstream network with account "sam"',
      ),
    );
    // Networks that were connected before the restart come back too.
    await waitFor(
      () => (soju.upstreamStatus("bob", "irc.now")?.account === "bob" ? true : undefined),
      "bob back after restart",
    );
  });
});

describe("the same flows through runSojuctl (facts §7.7)", () => {
  it("creates, sets SASL, enables, and ergo shows the login", async () => {
    await ergo.registerAccount("erin", 'Erin-"quoted"\\back');
    const run = (...words: string[]) =>
      soju.runSojuctl(["sojuctl", "-config", "/etc/soju/config", ...words]);
    expect(await run("user", "create", "-username", "erin", "-password", "erin pass")).toEqual({
      stdout: 'created user "erin"\n',
      stderr: "",
      exitCode: 0,
    });
    expect(await run("user", "create", "-username", "erin", "-password", "erin pass")).toEqual({
      stdout: "",
      stderr: 'could not create user: user "erin" already exists\n',
      exitCode: 1,
    });
    expect(
      await run(
        "user",
        "run",
        "erin",
        "network",
        "create",
        "-addr",
        addr,
        "-name",
        "irc.now",
        "-nick",
        "erin",
        "-username",
        "erin",
        "-enabled",
        "false",
      ),
    ).toEqual({ stdout: 'created network "irc.now"\n', stderr: "", exitCode: 0 });
    expect(
      await run(
        "user",
        "run",
        "erin",
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "erin",
        'Erin-"quoted"\\back',
      ),
    ).toEqual({
      stdout: "credentials saved\n",
      stderr: "",
      exitCode: 0,
    });
    expect(
      await run("user", "run", "erin", "network", "update", "irc.now", "-enabled", "true"),
    ).toEqual({
      stdout: 'updated network "irc.now"\n',
      stderr: "",
      exitCode: 0,
    });
    const status = await waitFor(async () => {
      const r = await run("user", "run", "erin", "sasl", "status", "-network", "irc.now");
      return r.stdout.includes("Authenticated") ? r : undefined;
    }, "erin authenticated");
    expect(status).toEqual({
      stdout:
        'SASL PLAIN enabled with username "erin"\nAuthenticated on upstream network with account "erin"\n',
      stderr: "",
      exitCode: 0,
    });
    expect(await whois("erin")).toContain(":ergo.test 330 checker erin erin :is logged in as");
    expect(await run("user", "run", "erin", "network", "status")).toEqual({
      stdout: `irc.now (${addr}) [connected]: 0 channels\n`,
      stderr: "",
      exitCode: 0,
    });
    expect(await run("user", "run", "erin", "sasl", "status", "-network", "nope")).toEqual({
      stdout: "",
      stderr: 'unknown network "nope"\n',
      exitCode: 1,
    });
  });

  it("a wrong password shows as Unauthenticated", async () => {
    await ergo.registerAccount("fay", "Fay-pw-1");
    const run = (...words: string[]) => soju.runSojuctl(["-config", "/etc/soju/config", ...words]);
    await run("user", "create", "-username", "fay", "-password", "faypw");
    await run(
      "user",
      "run",
      "fay",
      "network",
      "create",
      "-addr",
      addr,
      "-name",
      "irc.now",
      "-nick",
      "fay",
      "-enabled",
      "false",
    );
    expect(
      await run(
        "user",
        "run",
        "fay",
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "fay",
        "Wrong-pw-999",
      ),
    ).toEqual({
      stdout: "credentials saved\n",
      stderr: "",
      exitCode: 0,
    });
    await run("user", "run", "fay", "network", "update", "irc.now", "-enabled", "true");
    const status = await waitFor(async () => {
      const r = await run("user", "run", "fay", "sasl", "status", "-network", "irc.now");
      return r.stdout.includes("Disconnected") ? undefined : r;
    }, "fay connected");
    expect(status).toEqual({
      stdout: 'SASL PLAIN enabled with username "fay"\nUnauthenticated on upstream network\n',
      stderr: "",
      exitCode: 0,
    });
  });
});
