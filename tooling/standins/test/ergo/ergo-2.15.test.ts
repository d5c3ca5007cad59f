import { realPeersRequested, startErgo } from "@irc-now/peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin } from "../../src/ergo/index";
import { RawClient, rawOper, rawRegister, type ErgoEndpoint } from "./helpers";

/**
 * Behaviour of the real ergo 2.15.0 (the peers kit) where the stand-in used to disagree. In
 * `npm test` these cases pin the stand-in; `npm run test:peers` (REAL_PEERS=1) runs the very same
 * cases against the real ergo, so the pins stay true to it.
 */

interface Target extends ErgoEndpoint {
  registerAccount(account: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  if (!realPeersRequested()) return startErgoStandin();
  const real = await startErgo();
  return {
    ircPort: real.port,
    oper: real.oper,
    registerAccount: real.registerAccount,
    stop: real.stop,
  };
}

let ergo: Target;
const open: RawClient[] = [];
const track = (c: RawClient) => {
  open.push(c);
  return c;
};
const connect = async () => track(await RawClient.connect(ergo.ircPort));
/** ergo's cloak alphabet: a-z without l and o, and 2-9. */
const CLOAK = "[a-km-np-z2-9]{13}\\.irc";

beforeAll(async () => {
  ergo = await startTarget();
  await ergo.registerAccount("owner", "ownerpass1");
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

describe("ergo 2.15.0 behaviour", () => {
  it("ends the welcome burst with 221 +Zi (loopback is secure), and the ident is always ~u", async () => {
    const c = await connect();
    c.send("NICK burst", "USER someident 0 * :Burst");
    await c.until(/ 376 /);
    expect(await c.next(/ 221 | MODE /)).toBe(":ergo.test 221 burst +Zi");
    c.send("QUIT");
    // a colon only where IRC needs one
    expect(await c.until(/^ERROR/)).toEqual([
      expect.stringMatching(new RegExp(`^:burst!~u@${CLOAK} QUIT Quit$`)),
      "ERROR Quit",
    ]);
  });

  it("WHOIS: 671 for loopback, 317 before 301; opers and the user itself also get 338 and 379", async () => {
    const target = track(await rawRegister(ergo, "target1"));
    target.send("JOIN #hidden", "AWAY :lunch");
    await target.sync();
    const watcher = track(await rawRegister(ergo, "watcher1"));
    watcher.send("WHOIS target1");
    const seen = await watcher.until(/ 318 /);
    expect(seen.map((l) => l.split(" ")[1])).toEqual(["311", "671", "317", "301", "318"]);
    expect(seen[0]).toMatch(
      new RegExp(`^:ergo\\.test 311 watcher1 target1 ~u ${CLOAK} \\* target1$`),
    );
    expect(seen[3]).toBe(":ergo.test 301 watcher1 target1 lunch");

    const oper = track(await rawOper(ergo, "oper1"));
    oper.send("WHOIS target1");
    const asOper = await oper.until(/ 318 /);
    expect(asOper.map((l) => l.split(" ")[1])).toEqual([
      "311",
      "319",
      "338",
      "379",
      "671",
      "317",
      "301",
      "318",
    ]);
    expect(asOper).toContain(":ergo.test 319 oper1 target1 :@#hidden");
    expect(asOper).toContain(
      ":ergo.test 338 oper1 target1 ~u@127.0.0.1 127.0.0.1 :Actual user@host, Actual IP",
    );
    expect(asOper).toContain(":ergo.test 379 oper1 target1 :is using modes +Zi");

    oper.send("WHOIS oper1");
    const self = await oper.until(/ 318 /);
    expect(self).toContain(":ergo.test 313 oper1 oper1 :is the server administrator");
    expect(self).toContain(":ergo.test 379 oper1 oper1 :is using modes +Zio");
  });

  it("AWAY before registration is taken (306 to *); `AWAY *` keeps the away state as it is", async () => {
    const c = await connect();
    c.send("AWAY :early");
    expect(await c.next(/ 30[56] /)).toBe(":ergo.test 306 * :You have been marked as being away");
    c.send("NICK early1", "USER u 0 * :x");
    await c.until(/ 376 /);
    const watcher = track(await rawRegister(ergo, "watcher2"));
    watcher.send("WHOIS early1");
    expect(await watcher.until(/ 318 /)).toContain(":ergo.test 301 watcher2 early1 early");

    c.send("AWAY *");
    expect(await c.next(/ 30[56] /)).toBe(
      ":ergo.test 306 early1 :You have been marked as being away",
    );
    watcher.send("WHOIS early1");
    expect(await watcher.until(/ 318 /)).toContain(":ergo.test 301 watcher2 early1 early");
    c.send("AWAY");
    expect(await c.next(/ 30[56] /)).toBe(
      ":ergo.test 305 early1 :You are no longer marked as being away",
    );
    c.send("AWAY *");
    expect(await c.next(/ 30[56] /)).toBe(
      ":ergo.test 305 early1 :You are no longer marked as being away",
    );
    watcher.send("WHOIS early1");
    expect((await watcher.until(/ 318 /)).some((l) => / 301 /.test(l))).toBe(false);
  });

  it("offers draft/pre-away and standard-replies", async () => {
    const c = await connect();
    c.send("CAP LS 302", "CAP REQ :draft/pre-away standard-replies");
    expect(await c.next(/ CAP \* (ACK|NAK)/)).toBe(
      ":ergo.test CAP * ACK :draft/pre-away standard-replies",
    );
  });

  it("a nick reserved by an account: 433 + FAIL NICK before registration, only FAIL after", async () => {
    const c = await connect();
    c.send("NICK owner", "USER u 0 * :x");
    expect(await c.until(/ FAIL /)).toEqual([
      ":ergo.test 433 * owner :Nickname is reserved by a different account",
      ":ergo.test FAIL NICK NICKNAME_RESERVED owner :Nickname is reserved by a different account",
    ]);
    const other = track(await rawRegister(ergo, "someone"));
    other.send("NICK OWNER");
    expect(await other.sync()).toEqual([
      ":ergo.test FAIL NICK NICKNAME_RESERVED OWNER :Nickname is reserved by a different account",
    ]);
  });

  it("a logged-in client cannot leave its account's nick: 400 NICK", async () => {
    const c = track(
      await rawRegister(ergo, "whatever", { sasl: { account: "owner", password: "ownerpass1" } }),
    );
    c.send("NICK elsewhere");
    expect(await c.sync()).toEqual([
      ":ergo.test 400 owner NICK :You must use your account name as your nickname",
    ]);
  });

  it("guest nicks use the cloak alphabet", async () => {
    const squatter = track(await rawRegister(ergo, "squatted"));
    const oper = track(await rawOper(ergo, "oper3"));
    oper.send("NS SAREGISTER squatted pw-squat-1");
    expect(await squatter.next(/ NICK /)).toMatch(
      new RegExp(`^:squatted!~u@${CLOAK} NICK Guest-[a-km-np-z2-9]{13}$`),
    );
  });

  it("NS ERASE (oper): a confirmation code first, then success; an absent name and a second erase succeed too; the name is free again", async () => {
    // Recorded on ergo 2.15.0 (peers kit), 2026-11-30; the codes vary per name and server start.
    const ns = (text: string) => `:NickServ!NickServ@localhost NOTICE oper4 :${text}`;
    await ergo.registerAccount("erasee", "erasepass1");
    await ergo.registerAccount("eraseekeep", "erasepass2");
    const oper = track(await rawOper(ergo, "oper4"));
    oper.send("NS ERASE erasee");
    const prompt = await oper.sync();
    expect(prompt).toHaveLength(2);
    expect(prompt[0]).toBe(
      ns(
        "\x02Warning: erasing this account will allow it to be re-registered; consider UNREGISTER instead.\x02",
      ),
    );
    const code = /To confirm, run this command: \/NS ERASE erasee ([a-z0-9]{5})$/.exec(
      prompt[1] ?? "",
    )?.[1];
    expect(prompt[1], "the confirmation line").toMatch(
      /^:NickServ!NickServ@localhost NOTICE oper4 :/,
    );
    expect(code, prompt[1]).toBeDefined();
    // a wrong code only repeats the prompt, with the same code
    oper.send("NS ERASE erasee wrong1");
    expect(await oper.sync()).toEqual(prompt);
    // the code hashes the name as typed
    oper.send("NS ERASE ERASEE");
    const upper = await oper.sync();
    expect(upper[1]).toMatch(/To confirm, run this command: \/NS ERASE ERASEE [a-z0-9]{5}$/);
    expect(upper[1]?.endsWith(` ${code}`)).toBe(false);

    oper.send(`NS ERASE erasee ${code}`);
    expect(await oper.sync()).toEqual([ns("Successfully unregistered account erasee")]);
    // again, with nothing left to erase: the same success line
    oper.send(`NS ERASE erasee ${code}`);
    expect(await oper.sync()).toEqual([ns("Successfully unregistered account erasee")]);
    // a name that never had an account
    oper.send("NS ERASE neverwas");
    const never = /ERASE neverwas ([a-z0-9]{5})$/.exec((await oper.sync())[1] ?? "")?.[1];
    oper.send(`NS ERASE neverwas ${never}`);
    expect(await oper.sync()).toEqual([ns("Successfully unregistered account neverwas")]);
    // UNREGISTER words a missing account differently
    oper.send("NS UNREGISTER neverwas");
    expect(await oper.sync()).toEqual([ns("Invalid account name")]);
    // erased means free: it can be registered again; the other account is untouched
    oper.send("NS SAREGISTER erasee erasepass3");
    expect(await oper.sync()).toEqual([ns("Successfully registered account erasee")]);
    oper.send("NS INFO eraseekeep");
    expect((await oper.sync())[0]).toBe(ns("Account: eraseekeep"));
  });

  it("NS ERASE needs the accreg capability: Command restricted for a non-oper", async () => {
    const c = track(await rawRegister(ergo, "plainerase"));
    c.send("NS ERASE owner");
    expect(await c.sync()).toEqual([
      ":NickServ!NickServ@localhost NOTICE plainerase :Command restricted",
    ]);
  });

  it("service names are erroneous nicks", async () => {
    const c = track(await rawRegister(ergo, "plainuser"));
    c.send("NICK NickServ");
    expect(await c.sync()).toEqual([":ergo.test 432 plainuser NickServ :Erroneous nickname"]);
  });

  it("user MODE: changes come from the user's mask, a no-op gets 221; no +nt line on JOIN", async () => {
    const c = track(await rawRegister(ergo, "moder"));
    c.send("MODE moder +i");
    expect(await c.sync()).toEqual([":ergo.test 221 moder +Zi"]);
    c.send("MODE moder -i");
    expect((await c.sync())[0]).toMatch(new RegExp(`^:moder!~u@${CLOAK} MODE moder -i$`));
    c.send("MODE watcher1 +i");
    expect(await c.sync()).toContain(":ergo.test 502 moder :Can't change modes for other users");
    c.send("JOIN #fresh", "TOPIC #fresh :word");
    expect((await c.sync()).at(-1)).toMatch(new RegExp(`^:moder!~u@${CLOAK} TOPIC #fresh word$`));
    c.send("JOIN #fresh2");
    const joined = await c.sync();
    expect(joined.some((l) => / MODE #fresh2 /.test(l))).toBe(false);
    expect(joined).toContain(":ergo.test 366 moder #fresh2 :End of NAMES list");
  });
});
