import { describe, expect, it } from "vitest";
import { accountFromWhois, classifyPasswd, classifySaregister, type IrcLine } from "../src/index";

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
