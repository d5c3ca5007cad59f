/** Word encoding and secret scrubbing, checked against the soju stand-in's own splitWords / strconv.Quote. */
import { randomInt } from "node:crypto";
import { sojuctlCommandText, splitWords } from "@irc-now/standins/soju";
import { describe, expect, it } from "vitest";
import { SojuInvalidArgument } from "../src/index";
import { redactWords, scrubText, secretsOf } from "../src/scrub";
import { assertSojuctlSafe, bouncerServLine, commandText, quoteWord } from "../src/words";

const ALPHABET = [..."ab \"'\\-=:é\t", "\u00a0", "\u3000", "😀", "$", "`", "{", "}", "#", ","];

function randomWord(): string {
  let w = "";
  for (let i = randomInt(0, 12); i > 0; i--) w += ALPHABET[randomInt(0, ALPHABET.length)];
  return w;
}

describe("quoting for soju's splitWords (facts §7.2)", () => {
  it("gives back exactly the words, whatever they contain", () => {
    const samples: string[][] = [
      ["user", "run", "bob", "user", "update", "-realname", `Bob O'Builder "the 2nd"`],
      [
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "bob",
        `pw with "quotes", \\backslash and 'single'`,
      ],
      ["a  b", "", " lead", "trail ", "\\", "\\\\", '"', "''", "-dash", "tab\there", "ends\\"],
    ];
    for (let i = 0; i < 300; i++) samples.push(Array.from({ length: randomInt(1, 6) }, randomWord));
    for (const words of samples) expect(splitWords(commandText(words))).toEqual(words);
  });

  it("wraps every word in double quotes and escapes only backslash and double quote", () => {
    expect(quoteWord(`a "b" \\c 'd'`)).toBe(`"a \\"b\\" \\\\c 'd'"`);
    expect(bouncerServLine(["user", "status"])).toBe(`BOUNCERSERV :"user" "status"`);
    expect(bouncerServLine(["help"])).toBe(`BOUNCERSERV :"help"`);
  });

  it("refuses CR, LF, NUL and lone surrogates without showing the word", () => {
    for (const bad of ["\r", "\n", "\0", "\uD800"]) {
      const words = ["user", "create", "-username", "bob", "-password", `Secret${bad}Value`];
      let error: unknown;
      try {
        commandText(words);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SojuInvalidArgument);
      expect((error as Error).message).toContain("the value of -password (word 6)");
      expect((error as Error).message).not.toContain("Secret");
    }
    expect(() => commandText([])).toThrow(SojuInvalidArgument);
  });
});

describe("argv for sojuctl (strconv.Quote on every word, facts §7.2/§7.7)", () => {
  it("accepts what sojuctl carries intact, and it arrives intact", () => {
    const words = [
      "user",
      "run",
      "bob",
      "sasl",
      "set-plain",
      "-network",
      "a b",
      "--",
      `-u "q"`,
      `p w \\ 'x' é 😀 $\`{}`,
    ];
    expect(() => assertSojuctlSafe(words)).not.toThrow();
    expect(splitWords(sojuctlCommandText(words))).toEqual(words);
    for (let i = 0; i < 300; i++) {
      const sample = ["user", ...Array.from({ length: randomInt(1, 6) }, randomWord)];
      let safe = true;
      try {
        assertSojuctlSafe(sample);
      } catch {
        safe = false;
      }
      // What we accept survives sojuctl; what we refuse would not have.
      expect(splitWords(sojuctlCommandText(sample)).every((w, j) => w === sample[j])).toBe(safe);
    }
  });

  it("refuses tabs and other characters sojuctl would mangle, and a leading dash", () => {
    expect(() => assertSojuctlSafe(["user", "update", "-realname", "Tab\there"])).toThrow(
      /value of -realname.*a tab/,
    );
    expect(() => assertSojuctlSafe(["user", "update", "-realname", "nb\u00a0sp"])).toThrow(
      /U\+00A0/,
    );
    expect(() => assertSojuctlSafe(["-config", "/x"])).toThrow(SojuInvalidArgument);
    expect(() => assertSojuctlSafe(["user", "x\ny"])).toThrow(/CR, LF or NUL/);
  });
});

describe("secrets in command words", () => {
  it("finds -password / -pass values and sasl set-plain's password", () => {
    expect(secretsOf(["user", "create", "-username", "bob", "-password", "p1"])).toEqual(["p1"]);
    expect(secretsOf(["user", "update", "--password=p2"])).toEqual(["p2"]);
    expect(secretsOf(["user", "run", "bob", "network", "update", "n", "-pass", "p3"])).toEqual([
      "p3",
    ]);
    expect(
      secretsOf(["user", "run", "bob", "sasl", "set-plain", "-network", "n", "--", "bob", "p4"]),
    ).toEqual(["p4"]);
    expect(secretsOf(["user", "run", "bob", "network", "status"])).toEqual([]);
  });

  it("redacts them in logged words, also where they are repeated", () => {
    expect(
      redactWords(["user", "create", "-username", "bob", "-password", "hunter2", "hunter2"]),
    ).toEqual(["user", "create", "-username", "bob", "-password", "[redacted]", "[redacted]"]);
    expect(redactWords(["user", "update", "-password=hunter2"])).toEqual([
      "user",
      "update",
      "-password=[redacted]",
    ]);
  });

  it("scrubs plain, quoted, JSON, URL and base64 forms from texts", () => {
    const s = `a "b" \\c d`;
    const texts = [
      `x ${s} y`,
      `x ${quoteWord(s)} y`,
      `x ${JSON.stringify(s)} y`,
      `command=${encodeURIComponent(s)}&x`,
      `AUTH ${Buffer.from(s).toString("base64")}`,
    ];
    for (const t of texts) {
      const out = scrubText(t, [s]);
      expect(out).toContain("[redacted]");
      expect(out).not.toContain(s);
      expect(out).not.toContain('\\"b\\"');
    }
  });
});
