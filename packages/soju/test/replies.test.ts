/** Parsing soju's replies and outputs, with the exact texts of facts/soju.md §7.3–§7.7. */
import { describe, expect, it } from "vitest";
import { SojuCommandFailed, SojuUnavailable } from "../src/index";
import { exitCodeOf, interpretSojuctl, stdoutLines } from "../src/exec";
import {
  goUnquote,
  parseCreatedNetwork,
  parseIrcLine,
  parseNetworkExists,
  parseNetworkStatus,
  parseNetworkStatusLine,
  parseSaslStatus,
  parseUpdatedNetwork,
  parseUserExists,
  replyOutput,
  ReplyCollector,
  saslStatusOf,
  stripGoLogTimestamp,
  type Reply,
} from "../src/replies";

function collect(lines: string[]): Reply | undefined {
  const c = new ReplyCollector();
  for (const line of lines) {
    const reply = c.push(line);
    if (reply) return reply;
  }
  return undefined;
}

describe("admin-socket lines (§7.3)", () => {
  it("parses lines as IRC (prefix, tags, trailing only when needed)", () => {
    expect(parseIrcLine(":soju.test BOUNCERSERV OK")).toEqual({
      prefix: "soju.test",
      command: "BOUNCERSERV",
      params: ["OK"],
    });
    expect(parseIrcLine(":soju.test PRIVMSG * :alice: 1 networks")).toEqual({
      prefix: "soju.test",
      command: "PRIVMSG",
      params: ["*", "alice: 1 networks"],
    });
    expect(parseIrcLine(":soju.test PRIVMSG * credentials")).toEqual({
      prefix: "soju.test",
      command: "PRIVMSG",
      params: ["*", "credentials"],
    });
    expect(parseIrcLine("461 * BOUNCERSERV :Not enough parameters")).toEqual({
      command: "461",
      params: ["*", "BOUNCERSERV", "Not enough parameters"],
    });
    expect(parseIrcLine("@label=x :p bouncerserv OK\r")).toEqual({
      prefix: "p",
      command: "BOUNCERSERV",
      params: ["OK"],
    });
    expect(parseIrcLine(":soju.test PRIVMSG * :")).toEqual({
      prefix: "soju.test",
      command: "PRIVMSG",
      params: ["*", ""],
    });
    expect(parseIrcLine("")).toBeUndefined();
    expect(parseIrcLine(":only-prefix")).toBeUndefined();
  });

  it("collects PRIVMSG trailings until BOUNCERSERV, FAIL, ERROR or a numeric", () => {
    expect(
      collect([':soju.test PRIVMSG * :created user "bob"', ":soju.test BOUNCERSERV OK"]),
    ).toEqual({
      lines: ['created user "bob"'],
      terminal: { kind: "ok" },
    });
    const fail = collect([
      ":soju.test PRIVMSG * :partial",
      ':soju.test FAIL BOUNCERSERV :could not create user: user "bob" already exists',
    ]);
    expect(fail?.terminal).toEqual({
      kind: "fail",
      text: 'could not create user: user "bob" already exists',
    });
    expect(() => replyOutput(fail as Reply)).toThrow(SojuCommandFailed);
    const n461 = collect(["461 * BOUNCERSERV :Not enough parameters"]);
    expect(n461?.terminal).toEqual({ kind: "numeric", code: "461", text: "Not enough parameters" });
    expect(() => replyOutput(n461 as Reply)).toThrow(SojuCommandFailed);
    const n421 = collect([":soju.test 421 * NICK :Unknown command"]);
    expect(n421?.terminal).toMatchObject({ kind: "numeric", code: "421" });
    const error = collect(["ERROR :Server is shutting down"]);
    expect(error?.terminal).toEqual({ kind: "error", text: "Server is shutting down" });
    expect(() => replyOutput(error as Reply)).toThrow(SojuUnavailable);
    expect(
      collect([":soju.test PRIVMSG * :no terminal yet", ":soju.test NOTICE * :ignored"]),
    ).toBeUndefined();
  });

  it("FAIL's error is the last param (only two params, no code)", () => {
    try {
      replyOutput(collect([':soju.test FAIL BOUNCERSERV :unknown username "nosuchuser"']) as Reply);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SojuCommandFailed);
      expect((error as SojuCommandFailed).reply).toBe('unknown username "nosuchuser"');
    }
  });
});

describe("BouncerServ outputs", () => {
  it("reads created/updated/exists texts (Go-quoted)", () => {
    expect(parseCreatedNetwork('created network "irc.now"')).toBe("irc.now");
    expect(parseUpdatedNetwork('updated network "a \\"b\\""')).toBe('a "b"');
    expect(
      parseNetworkExists(
        'could not create network: a network with the name "irc.now" already exists',
      ),
    ).toBe("irc.now");
    expect(parseUserExists('could not create user: user "alice" already exists')).toBe("alice");
    expect(parseUserExists('unknown username "alice"')).toBeUndefined();
    expect(goUnquote(String.raw`a\tb\x41\u00e9\\\"`)).toBe('a\tbAé\\"');
  });

  it("parses sasl status into authenticated / unauthenticated / disconnected", () => {
    expect(
      saslStatusOf(
        parseSaslStatus([
          'SASL PLAIN enabled with username "bob"',
          'Authenticated on upstream network with account "bob"',
        ]),
      ),
    ).toEqual({
      plainUsername: "bob",
      state: { kind: "authenticated", account: "bob" },
    });
    expect(
      saslStatusOf(
        parseSaslStatus([
          'SASL PLAIN enabled with username "dave"',
          "Unauthenticated on upstream network",
        ]),
      ),
    ).toEqual({
      plainUsername: "dave",
      state: { kind: "unauthenticated" },
    });
    expect(
      saslStatusOf(
        parseSaslStatus([
          'SASL PLAIN enabled with username "dave"',
          "Disconnected from upstream network",
        ]),
      ),
    ).toEqual({
      plainUsername: "dave",
      state: { kind: "disconnected" },
    });
    expect(
      saslStatusOf(parseSaslStatus(["SASL is disabled", "Disconnected from upstream network"])),
    ).toEqual({
      plainUsername: null,
      state: { kind: "disconnected" },
    });
  });

  it("a sasl status without its state line (v0.7.0's lost line) has no state; saslStatusOf calls it unknown", () => {
    const parsed = parseSaslStatus(['SASL PLAIN enabled with username "bob"']);
    expect(parsed.state).toBeUndefined();
    expect(saslStatusOf(parsed)).toMatchObject({
      plainUsername: "bob",
      state: { kind: "unknown" },
    });
    expect(saslStatusOf(parseSaslStatus(["something new"])).state).toEqual({
      kind: "unknown",
      detail: "unrecognized sasl status output: something new",
    });
  });

  it("parses network status lines", () => {
    expect(
      parseNetworkStatusLine("irc.now (irc+insecure://127.0.0.1:16667) [connected]: 0 channels"),
    ).toEqual({
      name: "irc.now",
      addr: "irc+insecure://127.0.0.1:16667",
      state: "connected",
      channels: 0,
    });
    expect(parseNetworkStatusLine("irc.now (irc+insecure://127.0.0.1:16667) [disabled]")).toEqual({
      name: "irc.now",
      addr: "irc+insecure://127.0.0.1:16667",
      state: "disabled",
    });
    expect(
      parseNetworkStatusLine(
        'dead (irc+insecure://127.0.0.1:1) [disconnected]: connection error: failed to connect: failed to dial "127.0.0.1:1": dial tcp <nil>->127.0.0.1:1: connect: connection refused',
      ),
    ).toEqual({
      name: "dead",
      addr: "irc+insecure://127.0.0.1:1",
      state: "disconnected",
      error:
        'connection error: failed to connect: failed to dial "127.0.0.1:1": dial tcp <nil>->127.0.0.1:1: connect: connection refused',
    });
    expect(
      parseNetworkStatusLine(
        "my (odd) net (ircs://irc.example:6697) [connected as bob_, current]: 3 channels",
      ),
    ).toEqual({
      name: "my (odd) net",
      addr: "ircs://irc.example:6697",
      state: "connected",
      channels: 3,
    });
    expect(parseNetworkStatusLine("irc.example.org [disconnected]")).toEqual({
      name: "irc.example.org",
      addr: "irc.example.org",
      state: "disconnected",
    });
    expect(parseNetworkStatus(['No network configured, add one with "network create".'])).toEqual(
      [],
    );
  });
});

describe("sojuctl results (§7.7)", () => {
  it("stdout lines are the output; exit 1 + stderr is a FAIL, with or without a Go log timestamp", () => {
    expect(stdoutLines("dave: 1 networks\nbob: 1 networks\n")).toEqual([
      "dave: 1 networks",
      "bob: 1 networks",
    ]);
    expect(stdoutLines("")).toEqual([]);
    expect(interpretSojuctl({ stdout: 'created user "x"\n', stderr: "", exitCode: 0 })).toEqual([
      'created user "x"',
    ]);
    for (const stderr of [
      '2026/11/22 23:12:32 could not create user: user "bob" already exists\n',
      'could not create user: user "bob" already exists\n',
    ]) {
      try {
        interpretSojuctl({ stdout: "", stderr, exitCode: 1 });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(SojuCommandFailed);
        expect((error as SojuCommandFailed).reply).toBe(
          'could not create user: user "bob" already exists',
        );
      }
    }
    expect(
      stripGoLogTimestamp("2026/11/22 23:13:40 no listen unix+admin directive found in config"),
    ).toBe("no listen unix+admin directive found in config");
  });

  it("sojuctl failing to reach soju, or other exit codes, is SojuUnavailable", () => {
    for (const stderr of [
      "read: EOF\n",
      "2026/11/22 23:13:40 no listen unix+admin directive found in config\n",
      "failed to connect to admin socket: dial unix /run/soju/admin: connect: no such file or directory\n",
    ]) {
      expect(() => interpretSojuctl({ stdout: "", stderr, exitCode: 1 })).toThrow(SojuUnavailable);
    }
    expect(() => interpretSojuctl({ stdout: "", stderr: "usage\n", exitCode: 2 })).toThrow(
      SojuUnavailable,
    );
  });

  it("reads the exit code from the exec Status", () => {
    expect(exitCodeOf({ status: "Success" })).toBe(0);
    expect(
      exitCodeOf({
        status: "Failure",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "1" }] },
      }),
    ).toBe(1);
    expect(
      exitCodeOf({ status: "Failure", reason: "InternalError", message: "boom" }),
    ).toBeUndefined();
  });
});
