import { writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SojuStandin } from "../../src/soju";
import { goQuote, splitWords } from "../../src/soju";
import { SojuFixture } from "./helpers";

const fx = new SojuFixture();
let soju: SojuStandin;
let dbUrl: string;
const sojuctl = (...args: string[]) =>
  soju.runSojuctl(["sojuctl", "-config", "/etc/soju/config", ...args]);

beforeAll(async () => {
  await fx.setup();
  dbUrl = await fx.database();
  soju = await fx.soju({ databaseUrl: dbUrl });
});
afterAll(() => fx.teardown());

/** A fake admin socket that records what sojuctl sends and answers with canned lines. */
async function fakeSocket(
  answer: (line: string) => string | null,
): Promise<{ configPath: string; received: string[] }> {
  const path = fx.socketPath();
  const received: string[] = [];
  const server = net.createServer((socket) => {
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let lf: number;
      while ((lf = buffer.indexOf("\n")) !== -1) {
        const line = buffer.slice(0, lf + 1);
        buffer = buffer.slice(lf + 1);
        received.push(line);
        const reply = answer(line);
        if (reply === null) socket.destroy();
        else socket.write(reply);
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  fx.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const configPath = join(fx.dir, `fake-${received.length}-${Date.now()}.conf`);
  await writeFile(configPath, `hostname soju.test\nlisten unix+admin://${path}\n`);
  return { configPath, received };
}

describe("sojuctl command line", () => {
  it("needs -config", async () => {
    expect(await soju.runSojuctl(["user", "status"])).toEqual({
      stdout: "",
      stderr: "no listen unix+admin directive found in config\n",
      exitCode: 1,
    });
  });

  it("prints its usage for -h and -help, exit 0", async () => {
    const usage = { stdout: "", stderr: "usage: sojuctl [-config path] <command>\n", exitCode: 0 };
    expect(await soju.runSojuctl(["-h"])).toEqual(usage);
    expect(await soju.runSojuctl(["sojuctl", "-help"])).toEqual(usage);
  });

  it("rejects an unknown flag like Go's flag package (exit 2)", async () => {
    expect(await soju.runSojuctl(["-x", "user", "status"])).toEqual({
      stdout: "",
      stderr: "flag provided but not defined: -x\nusage: sojuctl [-config path] <command>\n",
      exitCode: 2,
    });
  });

  it("reports a missing config file and one without an admin listener", async () => {
    expect(await soju.runSojuctl(["-config", join(fx.dir, "nope.conf"), "help"])).toEqual({
      stdout: "",
      stderr: `failed to load config file: open ${join(fx.dir, "nope.conf")}: no such file or directory\n`,
      exitCode: 1,
    });
    const plain = join(fx.dir, "plain.conf");
    await writeFile(plain, "listen irc+insecure://127.0.0.1:6667\n");
    expect(await soju.runSojuctl(["-config", plain, "help"])).toEqual({
      stdout: "",
      stderr: "no listen unix+admin directive found in config\n",
      exitCode: 1,
    });
  });

  it("reads a real config file's listen unix+admin:// directive", async () => {
    const file = join(fx.dir, "soju.conf");
    await writeFile(
      file,
      `hostname soju.test\ndb postgres "${dbUrl}"\nlisten unix+admin://${soju.adminSocketPath}\n`,
    );
    expect(await soju.runSojuctl(["-config", file, "help"])).toEqual({
      stdout:
        "available commands: help, user create, user delete, user run, user status, user update\n",
      stderr: "",
      exitCode: 0,
    });
  });
});

describe("what sojuctl sends (strconv.Quote on every word)", () => {
  it("quotes every word; a single word goes without a colon; no words send an empty trailing", async () => {
    const fake = await fakeSocket(() => ":soju.test BOUNCERSERV OK\r\n");
    await soju.runSojuctl(["-config", fake.configPath, "help"]);
    await soju.runSojuctl([
      "-config",
      fake.configPath,
      "user",
      "create",
      "-username",
      "a b",
      "-realname",
      'Tab\tthere "é" \\',
    ]);
    await soju.runSojuctl(["-config", fake.configPath]);
    expect(fake.received).toEqual([
      'BOUNCERSERV "help"\r\n',
      'BOUNCERSERV :"user" "create" "-username" "a b" "-realname" "Tab\\tthere \\"é\\" \\\\"\r\n',
      "BOUNCERSERV :\r\n",
    ]);
  });

  it("prints output lines before a FAIL on stdout and the FAIL text on stderr", async () => {
    const fake = await fakeSocket(
      () =>
        ":soju.test PRIVMSG * :first\r\n:soju.test PRIVMSG * :second line\r\n:soju.test FAIL BOUNCERSERV :it broke\r\n",
    );
    expect(await soju.runSojuctl(["-config", fake.configPath, "x"])).toEqual({
      stdout: "first\nsecond line\n",
      stderr: "it broke\n",
      exitCode: 1,
    });
  });

  it("prints Not enough parameters for a 461 and read: EOF when the socket closes early", async () => {
    const fake461 = await fakeSocket(() => "461 * BOUNCERSERV :Not enough parameters\r\n");
    expect(await soju.runSojuctl(["-config", fake461.configPath, "x"])).toEqual({
      stdout: "",
      stderr: "Not enough parameters\n",
      exitCode: 1,
    });
    const fakeEof = await fakeSocket(() => null);
    expect(await soju.runSojuctl(["-config", fakeEof.configPath, "x"])).toEqual({
      stdout: "",
      stderr: "read: EOF\n",
      exitCode: 1,
    });
  });

  it("reports a socket it cannot reach", async () => {
    const file = join(fx.dir, "gone.conf");
    const path = join(fx.dir, "no-such.sock");
    await writeFile(file, `listen unix+admin://${path}\n`);
    expect(await soju.runSojuctl(["-config", file, "help"])).toEqual({
      stdout: "",
      stderr: `failed to connect to admin socket: dial unix ${path}: connect: no such file or directory\n`,
      exitCode: 1,
    });
  });

  it("round-trips through soju's splitter except for tabs (facts §7.2 sojuctl bug)", () => {
    for (const word of ["a b", 'Bob O\'Builder "the 2nd"', "back\\slash", "é", "", "-dash"]) {
      expect(splitWords(goQuote(word))).toEqual([word]);
    }
    expect(splitWords(goQuote("Tab\there"))).toEqual(["Tabthere"]);
  });
});

describe("sojuctl against the stand-in", () => {
  it("prints PRIVMSG texts on stdout, exit 0", async () => {
    await sojuctl("user", "create", "-username", "zed", "-password", "zedpass");
    await sojuctl("user", "create", "-username", "amy", "-password", "amypass", "-admin");
    const result = await sojuctl("user", "status");
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n").sort()).toEqual([
      "",
      "amy (admin): 0 networks",
      "zed: 0 networks",
    ]);
  });

  it("maps FAIL to stderr and exit 1; no words is `no command specified`", async () => {
    expect(await sojuctl("user", "run", "nosuchuser", "network", "status")).toEqual({
      stdout: "",
      stderr: 'unknown username "nosuchuser"\n',
      exitCode: 1,
    });
    expect(await sojuctl()).toEqual({
      stdout: "",
      stderr: 'no command specified (type "help" for a list of commands)\n',
      exitCode: 1,
    });
  });

  it("stores values exactly, except that a tab becomes t", async () => {
    await sojuctl("user", "create", "-username", "quinn", "-password", "pw");
    expect(
      await sojuctl(
        "user",
        "run",
        "quinn",
        "user",
        "update",
        "-realname",
        'Bob O\'Builder "the 2nd" \\ é',
      ),
    ).toEqual({
      stdout: 'updated user "quinn"\n',
      stderr: "",
      exitCode: 0,
    });
    expect(await fx.sql(dbUrl, `SELECT realname FROM "User" WHERE username = 'quinn'`)).toEqual([
      { realname: 'Bob O\'Builder "the 2nd" \\ é' },
    ]);
    // facts §7.2: `\t` comes back as `t` (a TAB before "here" turns into the t of "there").
    await sojuctl("user", "run", "quinn", "user", "update", "-realname", "Tab\there");
    expect(await fx.sql(dbUrl, `SELECT realname FROM "User" WHERE username = 'quinn'`)).toEqual([
      { realname: "Tabthere" },
    ]);
  });

  it("runs the user delete token flow", async () => {
    await sojuctl("user", "create", "-username", "vic", "-password", "pw");
    const first = await sojuctl("user", "delete", "vic");
    const token = /"user delete vic ([0-9a-f]{6})"/.exec(first.stdout)?.[1];
    expect(first).toEqual({
      stdout: `To confirm user deletion, send "user delete vic ${token}"\n`,
      stderr: "",
      exitCode: 0,
    });
    expect(await sojuctl("user", "delete", "vic", token ?? "")).toEqual({
      stdout: 'deleted user "vic"\n',
      stderr: "",
      exitCode: 0,
    });
  });
});
