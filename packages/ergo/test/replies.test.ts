import { describe, expect, it } from "vitest";
import {
  accountFromWhois,
  classifyErase,
  classifyPasswd,
  classifySaregister,
  type IrcLine,
} from "../src/index";

/** Reply texts exactly as facts/ergo.md records them (ergo v2.11.1 live). */

const notice = (text: string): IrcLine => ({
  source: "NickServ",
  command: "NOTICE",
  params: ["irc-now-admin", text],
});
const line = (command: string, ...params: string[]): IrcLine => ({
  source: "ergo.test",
  command,
  params,
});

describe("classifySaregister", () => {
  it("reads the NOTICE texts", () => {
    expect(classifySaregister([notice("Successfully registered account alice")])).toEqual({
      kind: "created",
    });
    expect(classifySaregister([notice("Name reserved due to a prior registration")])).toEqual({
      kind: "exists",
    });
    expect(classifySaregister([notice("Account already exists")]).kind).toBe("rejected");
    expect(
      classifySaregister([notice("Could not register: Account could not be created")]),
    ).toMatchObject({
      kind: "rejected",
      reason: expect.stringContaining("Account could not be created"),
    });
    expect(classifySaregister([notice("Command restricted")]).kind).toBe("forbidden");
    expect(
      classifySaregister([
        notice("Invalid parameters. For usage, do /msg NickServ HELP SAREGISTER"),
      ]).kind,
    ).toBe("rejected");
    expect(
      classifySaregister([notice("Unknown command. To see available commands, run: /NS HELP")])
        .kind,
    ).toBe("rejected");
  });

  it("prefers the machine-readable REGISTER / FAIL REGISTER lines (both exists codes)", () => {
    expect(
      classifySaregister([
        notice("Successfully registered account erin"),
        line("REGISTER", "SUCCESS", "erin", "Account successfully registered"),
      ]),
    ).toEqual({ kind: "created" });
    for (const code of ["USERNAME_EXISTS", "ACCOUNT_EXISTS"]) {
      expect(
        classifySaregister([
          notice("Name reserved due to a prior registration"),
          line("FAIL", "REGISTER", code, "erin", "Name reserved due to a prior registration"),
        ]),
      ).toEqual({ kind: "exists" });
    }
    // a machine-readable answer wins over an unknown (e.g. translated) NOTICE
    expect(
      classifySaregister([
        notice("Nom réservé"),
        line("FAIL", "REGISTER", "ACCOUNT_EXISTS", "erin", "Nom réservé"),
      ]),
    ).toEqual({ kind: "exists" });
  });

  it("does not mistake a restricted/guest name for an existing account", () => {
    expect(
      classifySaregister([
        notice("Account already exists"),
        line("FAIL", "REGISTER", "USERNAME_EXISTS", "Guest-foo", "Account already exists"),
      ]).kind,
    ).toBe("rejected");
  });

  it("ignores unrelated lines and formatting; unknown replies are reported, not guessed", () => {
    expect(
      classifySaregister([
        {
          source: "someone",
          command: "NOTICE",
          params: ["irc-now-admin", "Successfully registered account x"],
        },
        notice("\x02Successfully registered account bob\x02"),
      ]),
    ).toEqual({ kind: "created" });
    expect(classifySaregister([]).kind).toBe("unknown");
    expect(classifySaregister([notice("Something new")]).kind).toBe("unknown");
  });
});

describe("classifyPasswd", () => {
  it("reads the oper PASSWD replies", () => {
    expect(classifyPasswd([notice("Password changed")])).toEqual({ kind: "changed" });
    expect(classifyPasswd([notice("Account does not exist")]).kind).toBe("rejected");
    expect(classifyPasswd([notice("Insufficient privileges")]).kind).toBe("forbidden");
    expect(
      classifyPasswd([notice("Invalid parameters. For usage, do /msg NickServ HELP PASSWD")]).kind,
    ).toBe("rejected");
    expect(classifyPasswd([]).kind).toBe("unknown");
  });
});

describe("accountFromWhois", () => {
  it("reads 330, and null for 401 or 318 without 330", () => {
    expect(
      accountFromWhois(
        [
          line("311", "watcher", "alice", "~u", "eb7k68tw6y6za.irc", "*", "alice"),
          line("671", "watcher", "alice", "is using a secure connection"),
          line("330", "watcher", "alice", "alice", "is logged in as"),
          line("317", "watcher", "alice", "12", "1795388230", "seconds idle, signon time"),
          line("318", "watcher", "alice", "End of /WHOIS list"),
        ],
        "Alice",
      ),
    ).toBe("alice");
    expect(
      accountFromWhois(
        [
          line("401", "watcher", "bob", "No such nick"),
          line("318", "watcher", "bob", "End of /WHOIS list"),
        ],
        "bob",
      ),
    ).toBeNull();
    expect(
      accountFromWhois(
        [
          line("311", "watcher", "carol", "~u", "h", "*", "carol"),
          line("318", "watcher", "carol", "End of /WHOIS list"),
        ],
        "carol",
      ),
    ).toBeNull();
  });
});

describe("classifyErase (texts recorded on ergo 2.15.0)", () => {
  const warning =
    "\x02Warning: erasing this account will allow it to be re-registered; consider UNREGISTER instead.\x02";
  it("reads the confirmation code of the named account only", () => {
    const prompt = [notice(warning), notice("To confirm, run this command: /NS ERASE al pfj28")];
    expect(classifyErase(prompt, "al")).toEqual({ kind: "confirm", code: "pfj28" });
    expect(classifyErase(prompt, "AL")).toEqual({ kind: "confirm", code: "pfj28" });
    // a prompt for another name is no answer for this one
    expect(classifyErase(prompt, "alice").kind).toBe("unknown");
  });
  it("success, and a missing account in any of ergo's words, are done", () => {
    expect(classifyErase([notice("Successfully unregistered account al")], "al")).toEqual({
      kind: "erased",
    });
    expect(classifyErase([notice("Successfully unregistered account alice")], "al").kind).toBe(
      "unknown",
    );
    expect(classifyErase([notice("Account does not exist")], "al").kind).toBe("erased");
    expect(classifyErase([notice("Invalid account name")], "al").kind).toBe("erased");
  });
  it("privileges, server errors and silence", () => {
    expect(classifyErase([notice("Command restricted")], "al").kind).toBe("forbidden");
    expect(classifyErase([notice("Insufficient oper privs")], "al").kind).toBe("forbidden");
    expect(classifyErase([notice("Error while unregistering account")], "al").kind).toBe("failed");
    expect(classifyErase([notice(warning)], "al")).toEqual({
      kind: "unknown",
      reason: "NickServ sent no reply",
    });
  });
});
