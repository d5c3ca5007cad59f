import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saslPlainPayload, startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { frameworkClient, frameworkQuit, ns, RawClient, rawOper } from "./helpers";
import type { IrcEvent } from "irc-framework";

let ergo: ErgoStandin;
const open: RawClient[] = [];

beforeAll(async () => {
  ergo = await startErgoStandin();
  await ergo.registerAccount("alice", "s3cret1");
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

/** The recorded exchange, up to the SASL result line. */
async function saslExchange(
  nick: string,
  account: string,
  password: string,
): Promise<{ c: RawClient; result: string[] }> {
  const c = await RawClient.connect(ergo.ircPort);
  open.push(c);
  c.send("CAP LS 302");
  await c.next(/ CAP \* LS :/);
  c.send(`NICK ${nick}`, `USER ${nick} 0 * :${nick}`, "CAP REQ :sasl");
  expect(await c.next(/ CAP /)).toBe(":ergo.test CAP * ACK sasl");
  c.send("AUTHENTICATE PLAIN");
  expect(await c.next(/AUTHENTICATE/)).toBe("AUTHENTICATE +");
  c.send(`AUTHENTICATE ${saslPlainPayload(account, password)}`);
  const result = await c.until(/ 90[0-9] /);
  return { c, result };
}

describe("SASL PLAIN (exact wire exchange)", () => {
  it("logs in: 900 with `* *` before registration, then 903", async () => {
    // base64 of "\0alice\0s3cret1"
    expect(saslPlainPayload("alice", "newpass2")).toBe("AGFsaWNlAG5ld3Bhc3My");
    const { c, result } = await saslExchange("alice", "alice", "s3cret1");
    expect(result).toEqual([":ergo.test 900 * * alice :You are now logged in as alice"]);
    expect(await c.next(/ 903 /)).toBe(":ergo.test 903 * :Authentication successful");
    c.send("CAP END");
    expect(await c.next(/ 001 /)).toBe(
      ":ergo.test 001 alice :Welcome to the ErgoTest IRC Network alice",
    );
    await c.sync();
    expect(ergo.whoisAccount("alice")).toBe("alice");
    c.close();
    await c.closed;
  });

  it("after oper PASSWD only the new password works", async () => {
    await ergo.registerAccount("paula", "oldpass1");
    const op = await rawOper(ergo, "sasloper");
    open.push(op);
    await ns(op, "NS PASSWD paula newpass2");

    const old = await saslExchange("paula", "paula", "oldpass1");
    expect(old.result).toEqual([
      ":ergo.test 904 * :SASL authentication failed: Invalid account credentials",
    ]);

    const fresh = await saslExchange("paula", "paula", "newpass2");
    expect(fresh.result).toEqual([":ergo.test 900 * * paula :You are now logged in as paula"]);
    expect(await fresh.c.next(/ 903 /)).toBe(":ergo.test 903 * :Authentication successful");
  });

  it("fails for an account that does not exist", async () => {
    const { result } = await saslExchange("nobody", "nobody", "whatever1");
    expect(result).toEqual([
      ":ergo.test 904 * :SASL authentication failed: Account does not exist",
    ]);
  });

  it("treats account names case-insensitively and reports the stored name", async () => {
    const { result } = await saslExchange("ALICE", "ALICE", "s3cret1");
    expect(result).toEqual([":ergo.test 900 * * alice :You are now logged in as alice"]);
  });

  it("registers a SASL client under its account name (force-nick-equals-account)", async () => {
    await ergo.registerAccount("quinn", "quinnpass");
    const { c } = await saslExchange("somebody", "quinn", "quinnpass");
    c.send("CAP END");
    expect(await c.next(/ 001 /)).toMatch(/^:ergo\.test 001 quinn /);
    await c.sync();
    expect(ergo.whoisAccount("quinn")).toBe("quinn");
    expect(ergo.whoisAccount("somebody")).toBeNull();
  });

  it("a failed attempt still lets the client register without an account", async () => {
    const { c } = await saslExchange("guesty", "alice", "wrong-password");
    c.send("CAP END");
    expect(await c.next(/ 001 /)).toMatch(/^:ergo\.test 001 guesty /);
    await c.sync();
    expect(ergo.whoisAccount("guesty")).toBeNull();
  });
});

describe("SASL with irc-framework", () => {
  it("logs in with the account option", async () => {
    await ergo.registerAccount("rita", "ritapass1");
    const client = await frameworkClient(ergo, {
      nick: "rita",
      username: "rita",
      gecos: "Rita",
      account: { account: "rita", password: "ritapass1" },
    });
    expect(ergo.whoisAccount("rita")).toBe("rita");
    expect(client.user.nick).toBe("rita");
    await frameworkQuit(client);
  });

  it("reports a failure through 'sasl failed' and still registers", async () => {
    const failures: IrcEvent[] = [];
    const { default: IRC } = await import("irc-framework");
    const client = new IRC.Client();
    client.on("sasl failed", (e) => failures.push(e));
    const registered = new Promise<void>((resolve) => client.once("registered", () => resolve()));
    client.connect({
      host: ergo.ircHost,
      port: ergo.ircPort,
      nick: "sam",
      username: "sam",
      account: { account: "alice", password: "not-it" },
      auto_reconnect: false,
      ping_interval: 0,
    });
    await registered;
    expect(failures.map((f) => f.message)).toEqual([
      "SASL authentication failed: Invalid account credentials",
    ]);
    expect(ergo.whoisAccount("sam")).toBeNull();
    await frameworkQuit(client);
  });
});
