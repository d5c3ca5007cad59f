import { describe, expect, it } from "vitest";
import { capLsLines } from "../../src/ergo/caps";
import { casefold, isValidName } from "../../src/ergo/names";
import { LineBuffer, parseLine, serializeLine } from "../../src/ergo/protocol";

describe("IRC line parsing", () => {
  it("parses tags, source, command and a trailing parameter", () => {
    expect(parseLine("@label=a\\sb;+typing :nick!u@h privmsg #chan :hello world")).toEqual({
      tags: new Map([
        ["label", "a b"],
        ["+typing", ""],
      ]),
      source: "nick!u@h",
      command: "PRIVMSG",
      params: ["#chan", "hello world"],
    });
    expect(parseLine("NICK alice")).toMatchObject({
      source: null,
      command: "NICK",
      params: ["alice"],
    });
    expect(parseLine("USER u 0 * :")).toMatchObject({ params: ["u", "0", "*", ""] });
    expect(parseLine("")).toBeNull();
  });

  it("adds a colon to the last parameter only when needed, unless forced", () => {
    expect(serializeLine("ergo.test", "CAP", ["*", "ACK", "sasl"])).toBe(
      ":ergo.test CAP * ACK sasl",
    );
    expect(serializeLine("ergo.test", "CAP", ["*", "ACK", "sasl server-time"])).toBe(
      ":ergo.test CAP * ACK :sasl server-time",
    );
    expect(serializeLine(null, "AUTHENTICATE", ["+"])).toBe("AUTHENTICATE +");
    expect(serializeLine("ergo.test", "MODE", ["opuser", "+o"])).toBe(":ergo.test MODE opuser +o");
    expect(serializeLine("n!u@h", "PRIVMSG", ["#c", "hi"], { forceTrailing: true })).toBe(
      ":n!u@h PRIVMSG #c :hi",
    );
    expect(serializeLine("s", "X", [":leading"])).toBe(":s X ::leading");
    expect(serializeLine("s", "X", ["a"], { tags: { time: "t", label: "x;y z" } })).toBe(
      "@time=t;label=x\\:y\\sz :s X a",
    );
  });

  it("splits a stream into lines across chunks, with CRLF or LF", () => {
    const buf = new LineBuffer();
    expect(buf.push("NICK a\r\nUSER")).toEqual(["NICK a"]);
    expect(buf.push(" u 0 * :x\nPING 1\r\n")).toEqual(["USER u 0 * :x", "PING 1"]);
  });
});

describe("names", () => {
  it("folds ASCII case and applies ergo's name rules", () => {
    expect(casefold("ALICE")).toBe("alice");
    for (const ok of ["alice", "Guest-foo", "a_b", "x[1]"]) expect(isValidName(ok)).toBe(true);
    for (const bad of [
      "Bad*Name",
      "a.b",
      "-lead",
      "#chan",
      "a b",
      "",
      "x".repeat(33),
      "a:b",
      "a!b",
      "a@b",
    ])
      expect(isValidName(bad)).toBe(false);
  });
});

describe("CAP LS", () => {
  it("ends the first 302 line with multi-prefix and starts the second with sasl", () => {
    const [first, second] = capLsLines(302);
    expect(first?.startsWith("account-notify account-tag ")).toBe(true);
    expect(first?.endsWith(" multi-prefix")).toBe(true);
    // ergo 2.15.0 (peers kit) adds standard-replies to the recorded 2.11.1 line
    expect(second).toBe(
      "sasl=PLAIN,EXTERNAL server-time setname standard-replies userhost-in-names znc.in/playback znc.in/self-message",
    );
  });
});
