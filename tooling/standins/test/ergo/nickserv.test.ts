import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { nickServTexts, ns, RawClient, rawOper, rawRegister } from "./helpers";

// Every text below is pinned to facts/ergo.md (ergo v2.11.1, seen live).
const NOTICE = (nick: string, text: string) =>
  `:NickServ!NickServ@localhost NOTICE ${nick} :${text}`;

let ergo: ErgoStandin;
const open: RawClient[] = [];
const track = (c: RawClient) => (open.push(c), c);

beforeAll(async () => {
  ergo = await startErgoStandin({ opers: [{ name: "admin", password: "operpass123" }] });
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

describe("OPER", () => {
  it("grants operator status with 381 and MODE +o", async () => {
    const c = track(await rawRegister(ergo, "opuser"));
    c.send("OPER admin operpass123");
    expect(await c.sync()).toEqual([
      ":ergo.test 381 opuser :You are now an IRC operator",
      ":ergo.test MODE opuser +o",
    ]);
  });

  it("disconnects after a wrong oper password: 464, QUIT echo, ERROR", async () => {
    const c = track(await rawRegister(ergo, "badoper"));
    c.send("OPER admin wrongpass");
    const lines = await c.until("ERROR :Password incorrect");
    expect(lines[0]).toBe(":ergo.test 464 badoper :Password incorrect");
    expect(lines[1]).toMatch(/^:badoper!~u@[a-z2-9]+\.irc QUIT :Password incorrect$/);
    expect(lines).toHaveLength(3);
    await c.closed;
    expect(c.ended).toBe(true);
    expect(ergo.clients().some((u) => u.nick === "badoper")).toBe(false);
  });
});

describe("NickServ SAREGISTER (oper)", () => {
  let op: RawClient;
  beforeAll(async () => {
    op = track(await rawOper(ergo, "regop"));
  });

  it("registers new accounts through PRIVMSG NickServ, NS and NICKSERV", async () => {
    expect(await ns(op, "PRIVMSG NickServ :SAREGISTER alice s3cret1")).toEqual([
      NOTICE("regop", "Successfully registered account alice"),
    ]);
    expect(await ns(op, "NS SAREGISTER bob b0bpass1")).toEqual([
      NOTICE("regop", "Successfully registered account bob"),
    ]);
    expect(await ns(op, "NICKSERV SAREGISTER carol")).toEqual([
      NOTICE("regop", "Successfully registered account carol"),
    ]);
    expect(ergo.accountExists("alice")).toBe(true);
    expect(ergo.accountExists("BOB")).toBe(true);
    expect(await ergo.checkPassword("alice", "s3cret1")).toBe(true);
  });

  it("answers 'Name reserved due to a prior registration' for an existing account, in any case", async () => {
    for (const name of ["alice", "ALICE", "bob"]) {
      expect(nickServTexts(await ns(op, `NS SAREGISTER ${name} other123`))).toEqual([
        "Name reserved due to a prior registration",
      ]);
    }
    // the existing password is untouched
    expect(await ergo.checkPassword("alice", "s3cret1")).toBe(true);
  });

  it("answers 'Account already exists' for service and guest-pattern names", async () => {
    expect(nickServTexts(await ns(op, "NS SAREGISTER NickServ pw12345"))).toEqual([
      "Account already exists",
    ]);
    expect(nickServTexts(await ns(op, "NS SAREGISTER Guest-foo pw12345"))).toEqual([
      "Account already exists",
    ]);
    expect(ergo.accountExists("Guest-foo")).toBe(false);
  });

  it("rejects an invalid name", async () => {
    expect(nickServTexts(await ns(op, "NS SAREGISTER Bad*Name pw12345"))).toEqual([
      "Could not register: Account could not be created",
    ]);
    expect(ergo.accountExists("Bad*Name")).toBe(false);
  });

  it("explains usage when called without arguments", async () => {
    expect(await ns(op, "NS SAREGISTER")).toEqual([
      NOTICE("regop", "Invalid parameters. For usage, do /msg NickServ HELP SAREGISTER"),
    ]);
  });

  it("has no SAPASSWD", async () => {
    expect(await ns(op, "PRIVMSG NickServ :SAPASSWD alice newpass2")).toEqual([
      NOTICE("regop", "Unknown command. To see available commands, run: /NS HELP"),
    ]);
    expect(await ergo.checkPassword("alice", "s3cret1")).toBe(true);
  });
});

describe("NickServ PASSWD", () => {
  let op: RawClient;
  beforeAll(async () => {
    op = track(await rawOper(ergo, "pwop"));
    await ns(op, "NS SAREGISTER dora d0rapass");
  });

  it("lets an oper reset another account's password with two arguments", async () => {
    expect(await ns(op, "PRIVMSG NickServ :PASSWD dora newpass2")).toEqual([
      NOTICE("pwop", "Password changed"),
    ]);
    expect(await ergo.checkPassword("dora", "newpass2")).toBe(true);
    expect(await ergo.checkPassword("dora", "d0rapass")).toBe(false);
  });

  it("answers 'Account does not exist' for a missing account", async () => {
    expect(nickServTexts(await ns(op, "NS PASSWD nosuchacct whatever1"))).toEqual([
      "Account does not exist",
    ]);
  });

  it("explains usage with a single argument", async () => {
    expect(nickServTexts(await ns(op, "PRIVMSG NickServ :PASSWD dora"))).toEqual([
      "Invalid parameters. For usage, do /msg NickServ HELP PASSWD",
    ]);
  });
});

describe("NickServ as a non-oper", () => {
  let user: RawClient;
  beforeAll(async () => {
    user = track(await rawRegister(ergo, "plainuser"));
  });

  it("restricts SAREGISTER in both forms", async () => {
    expect(await ns(user, "PRIVMSG NickServ :SAREGISTER dave d4vepass")).toEqual([
      NOTICE("plainuser", "Command restricted"),
    ]);
    expect(await ns(user, "NS SAREGISTER dave d4vepass")).toEqual([
      NOTICE("plainuser", "Command restricted"),
    ]);
    expect(ergo.accountExists("dave")).toBe(false);
  });

  it("refuses the oper form of PASSWD", async () => {
    await ergo.registerAccount("erika", "erikapass");
    expect(await ns(user, "NS PASSWD erika hacked123")).toEqual([
      NOTICE("plainuser", "Insufficient privileges"),
    ]);
    expect(await ergo.checkPassword("erika", "erikapass")).toBe(true);
  });
});

describe("draft/account-registration replies", () => {
  it("adds REGISTER SUCCESS / FAIL REGISTER USERNAME_EXISTS (v2.11.1) after the NOTICE", async () => {
    const op = track(await rawOper(ergo, "capop", ["draft/account-registration"]));
    expect(await ns(op, "NS SAREGISTER erin erinpass1")).toEqual([
      NOTICE("capop", "Successfully registered account erin"),
      ":ergo.test REGISTER SUCCESS erin :Account successfully registered",
    ]);
    expect(await ns(op, "NS SAREGISTER erin erinpass1")).toEqual([
      NOTICE("capop", "Name reserved due to a prior registration"),
      ":ergo.test FAIL REGISTER USERNAME_EXISTS erin :Name reserved due to a prior registration",
    ]);
  });

  it("sends no REGISTER lines without the cap", async () => {
    const op = track(await rawOper(ergo, "nocapop"));
    const lines = await ns(op, "NS SAREGISTER frank frankpass");
    expect(lines).toEqual([NOTICE("nocapop", "Successfully registered account frank")]);
  });

  it("uses ACCOUNT_EXISTS when configured as current ergo", async () => {
    const current = await startErgoStandin({ registerExistsCode: "ACCOUNT_EXISTS" });
    try {
      const op = await rawOper(current, "curop", ["draft/account-registration"]);
      await ns(op, "NS SAREGISTER gina ginapass");
      expect(await ns(op, "NS SAREGISTER GINA ginapass")).toEqual([
        NOTICE("curop", "Name reserved due to a prior registration"),
        ":ergo.test FAIL REGISTER ACCOUNT_EXISTS GINA :Name reserved due to a prior registration",
      ]);
      op.close();
    } finally {
      await current.stop();
    }
  });
});

describe("strict nick enforcement", () => {
  it("renames an oper that SAREGISTERs its own nick to Guest-…, and addresses the notice to the new nick", async () => {
    const op = track(await rawOper(ergo, "selfop"));
    const lines = await ns(op, "NS SAREGISTER selfop selfpass1");
    expect(lines).toHaveLength(2);
    const rename = /^:selfop!~u@[a-z2-9]+\.irc NICK (Guest-[a-z2-9]+)$/.exec(lines[0] ?? "");
    expect(rename).not.toBeNull();
    const guest = rename?.[1] ?? "";
    expect(lines[1]).toBe(NOTICE(guest, "Successfully registered account selfop"));
    expect(ergo.clients().find((c) => c.nick === guest)?.oper).toBe("admin");
  });

  it("renames another client sitting on a nick that becomes an account it is not logged into", async () => {
    const squatter = track(await rawRegister(ergo, "henry"));
    const op = track(await rawOper(ergo, "enfop"));
    expect(nickServTexts(await ns(op, "NS SAREGISTER henry henrypass"))).toEqual([
      "Successfully registered account henry",
    ]);
    const line = await squatter.next(/ NICK /);
    expect(line).toMatch(/^:henry!~u@[a-z2-9]+\.irc NICK Guest-[a-z2-9]+$/);
    expect(ergo.whoisAccount("henry")).toBeNull();
    expect(ergo.clients().some((c) => c.nick === "henry")).toBe(false);
  });

  it("refuses a registered nick to a client that is not logged into it", async () => {
    await ergo.registerAccount("ivy", "ivypass12");
    const c = track(await RawClient.connect(ergo.ircPort));
    c.send("NICK ivy", "USER u 0 * :ivy");
    expect(await c.next(/ 433 /)).toBe(
      ":ergo.test 433 * ivy :Nickname is reserved by a different account",
    );
    c.send("NICK ivy_");
    expect(await c.next(/ 001 /)).toMatch(/^:ergo\.test 001 ivy_ :Welcome/);
  });
});
