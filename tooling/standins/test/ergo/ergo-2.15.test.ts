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
