import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { RawClient, rawRegister } from "./helpers";

let ergo: ErgoStandin;
const open: RawClient[] = [];
const connect = async () => {
  const c = await RawClient.connect(ergo.ircPort);
  open.push(c);
  return c;
};

beforeAll(async () => {
  ergo = await startErgoStandin();
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

describe("CAP negotiation", () => {
  it("lists caps over two lines for CAP LS 302, the second as recorded (+ 2.15's standard-replies)", async () => {
    const c = await connect();
    c.send("CAP LS 302");
    const lines = await c.until(/ CAP \* LS :/);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^:ergo\.test CAP \* LS \* :account-notify account-tag .* multi-prefix$/,
    );
    expect(lines[0]).toContain(" draft/account-registration");
    expect(lines[1]).toBe(
      ":ergo.test CAP * LS :sasl=PLAIN,EXTERNAL server-time setname standard-replies userhost-in-names znc.in/playback znc.in/self-message",
    );
  });

  it("lists caps without values on one line for plain CAP LS", async () => {
    const c = await connect();
    c.send("CAP LS");
    const line = await c.next(/ CAP /);
    expect(line).toMatch(
      /^:ergo\.test CAP \* LS :account-notify .* sasl server-time .*znc\.in\/self-message$/,
    );
    expect(line).not.toContain("=");
  });

  it("ACKs known caps (colon only when needed) and NAKs a request with an unknown cap", async () => {
    const c = await connect();
    c.send("CAP LS 302", "CAP REQ :sasl");
    expect(await c.next(/ CAP \* (ACK|NAK)/)).toBe(":ergo.test CAP * ACK sasl");
    c.send("CAP REQ :multi-prefix extended-join");
    expect(await c.next(/ CAP \* (ACK|NAK)/)).toBe(
      ":ergo.test CAP * ACK :multi-prefix extended-join",
    );
    c.send("CAP REQ :sasl bogus-cap");
    expect(await c.next(/ CAP \* (ACK|NAK)/)).toBe(":ergo.test CAP * NAK :sasl bogus-cap");
  });

  it("holds registration until CAP END", async () => {
    const c = await connect();
    c.send("CAP LS 302", "NICK waiter", "USER u 0 * :waiter");
    await c.next(/ CAP \* LS :/);
    const before = await c.sync();
    expect(before.some((l) => / 001 /.test(l))).toBe(false);
    c.send("CAP END");
    expect(await c.next(/ 001 /)).toBe(
      ":ergo.test 001 waiter :Welcome to the ErgoTest IRC Network waiter",
    );
  });
});

describe("registration", () => {
  it("sends the 001-005 welcome burst", async () => {
    const c = await connect();
    c.send("NICK welcome", "USER u 0 * :Welcome Test");
    const lines = await c.until(/ 376 /);
    expect(lines[0]).toBe(":ergo.test 001 welcome :Welcome to the ErgoTest IRC Network welcome");
    expect(lines[1]).toBe(
      ":ergo.test 002 welcome :Your host is ergo.test, running version ergo-2.11.1",
    );
    expect(lines[2]).toMatch(/^:ergo\.test 003 welcome :This server was created /);
    expect(lines[3]).toBe(
      ":ergo.test 004 welcome ergo.test ergo-2.11.1 BERTZios CEIMRUabefhiklmnoqstuv Iabefhkloqv",
    );
    const isupport = lines.filter((l) => / 005 /.test(l));
    expect(isupport.length).toBeGreaterThanOrEqual(2);
    expect(isupport.join(" ")).toContain("CASEMAPPING=ascii");
    expect(isupport.join(" ")).toContain("NETWORK=ErgoTest");
    expect(isupport.every((l) => l.endsWith(" :are supported by this server"))).toBe(true);
  });

  it("answers PING with PONG before and after registration", async () => {
    const c = await connect();
    c.send("PING early");
    expect(await c.next(/PONG/)).toBe(":ergo.test PONG ergo.test early");
    c.send("NICK pinger", "USER u 0 * :pinger");
    await c.next(/ 376 /);
    c.send("PING :hello there");
    expect(await c.next(/PONG/)).toBe(":ergo.test PONG ergo.test :hello there");
  });

  it("refuses other commands before registration", async () => {
    const c = await connect();
    c.send("JOIN #early");
    expect(await c.next(/ 451 /)).toBe(
      ":ergo.test 451 * :You need to register before you can use that command",
    );
  });

  it("refuses a nick that is in use", async () => {
    await rawRegister(ergo, "taken").then((c) => open.push(c));
    const c = await connect();
    c.send("NICK taken", "USER u 0 * :x");
    expect(await c.next(/ 433 /)).toBe(":ergo.test 433 * taken :Nickname is already in use");
    c.send("NICK Taken_2");
    expect(await c.next(/ 001 /)).toMatch(/^:ergo\.test 001 Taken_2 /);
  });

  it("rejects an erroneous nick", async () => {
    const c = await connect();
    c.send("NICK bad*nick");
    expect(await c.next(/ 432 /)).toBe(":ergo.test 432 * bad*nick :Erroneous nickname");
  });

  it("QUIT echoes the quit, sends ERROR and closes", async () => {
    const c = await rawRegister(ergo, "leaver");
    open.push(c);
    c.send("QUIT :bye now");
    const lines = await c.until(/^ERROR /);
    expect(lines[0]).toMatch(/^:leaver!~u@[a-z2-9]+\.irc QUIT :Quit: bye now$/);
    expect(lines[1]).toBe("ERROR :Quit: bye now");
    await c.closed;
    expect(ergo.clients().some((u) => u.nick === "leaver")).toBe(false);
  });

  it("answers unknown commands with 421", async () => {
    const c = await rawRegister(ergo, "curious");
    open.push(c);
    c.send("FROBNICATE x");
    expect(await c.next(/ 421 /)).toBe(":ergo.test 421 curious FROBNICATE :Unknown command");
  });
});

describe("channels", () => {
  it("JOIN gives JOIN + 353/366, PRIVMSG reaches members, PART is broadcast", async () => {
    const a = await rawRegister(ergo, "chana");
    const b = await rawRegister(ergo, "chanb");
    open.push(a, b);
    a.send("JOIN #room");
    const joinA = await a.until(/ 366 /);
    expect(joinA[0]).toMatch(/^:chana!~u@[a-z2-9]+\.irc JOIN #room$/);
    expect(joinA).toContain(":ergo.test 353 chana = #room :@chana");
    expect(joinA[joinA.length - 1]).toBe(":ergo.test 366 chana #room :End of NAMES list");

    b.send("JOIN #room");
    const joinB = await b.until(/ 366 /);
    expect(joinB).toContain(":ergo.test 353 chanb = #room :@chana chanb");
    expect(await a.next(/ JOIN /)).toMatch(/^:chanb!~u@\S+ JOIN #room$/);

    b.send("PRIVMSG #room :hello room");
    expect(await a.next(/ PRIVMSG /)).toMatch(/^:chanb!~u@\S+ PRIVMSG #room :hello room$/);

    b.send("PART #room :later");
    expect(await a.next(/ PART /)).toMatch(/^:chanb!~u@\S+ PART #room :?later$/);
  });

  it("delivers private messages and 401 for an absent nick", async () => {
    const a = await rawRegister(ergo, "pma");
    const b = await rawRegister(ergo, "pmb");
    open.push(a, b);
    a.send("PRIVMSG pmb :hi");
    expect(await b.next(/ PRIVMSG /)).toMatch(/^:pma!~u@\S+ PRIVMSG pmb :hi$/);
    a.send("PRIVMSG ghost :hi");
    expect(await a.next(/ 401 /)).toBe(":ergo.test 401 pma ghost :No such nick");
  });
});
