import { describe, expect, it } from "vitest";
import { unusableAccountName } from "../src/index";

// The names and verdicts are those real ergo v2.15.0 gave to `NS SAREGISTER` (src/account-names.ts).

describe("unusableAccountName", () => {
  it.each([
    "nickserv",
    "NickServ",
    "chanserv",
    "ChanServ",
    "hostserv",
    "histserv",
    "HistServ",
    "operserv",
    "memoserv",
    "botserv",
    "global",
    "GLOBAL",
    "=scene=",
  ])("refuses ergo's service name %j", (name) => {
    expect(unusableAccountName(name)?.code).toBe("service-name");
  });

  it.each(["Guest-x", "guest-x", "GUEST-foo", "guest-", "guest-irc-now", "Guest-alice"])(
    "refuses %j, which matches ergo's default guest format Guest-*",
    (name) => {
      expect(unusableAccountName(name)?.code).toBe("guest-pattern");
    },
  );

  it.each([
    "alice",
    "ns",
    "cs",
    "hs",
    "hist",
    "guest",
    "guestx",
    "guest_x",
    "scene",
    "saslserv",
    "infoserv",
    "ergo",
    "admin",
    "nickserv-",
    "nickserv_",
    "n1ckserv",
    "histserv2",
  ])("accepts %j, which ergo registers", (name) => {
    expect(unusableAccountName(name)).toBeNull();
  });

  it("refuses the oper session's nick, case-insensitively, default or configured", () => {
    expect(unusableAccountName("irc-now-admin")?.code).toBe("admin-nick");
    expect(unusableAccountName("IRC-NOW-ADMIN")?.code).toBe("admin-nick");
    expect(unusableAccountName("portal-bot", { adminNick: "Portal-Bot" })).toMatchObject({
      code: "admin-nick",
      message: expect.stringContaining("ERGO_ADMIN_NICK"),
    });
    // Once another nick is configured, the default one is an ordinary (registrable) name.
    expect(unusableAccountName("irc-now-admin", { adminNick: "portal-bot" })).toBeNull();
  });

  it("follows a configured guest format, globs included, and none when it is empty", () => {
    const rules = { guestNicknameFormat: "Anon?-*" };
    expect(unusableAccountName("anon1-bob", rules)?.code).toBe("guest-pattern");
    expect(unusableAccountName("anon-bob", rules)).toBeNull();
    expect(unusableAccountName("guest-bob", rules)).toBeNull();
    // Regex metacharacters in the template are literal.
    expect(unusableAccountName("a.b", { guestNicknameFormat: "a.b" })?.code).toBe("guest-pattern");
    expect(unusableAccountName("axb", { guestNicknameFormat: "a.b" })).toBeNull();
    expect(unusableAccountName("guest-bob", { guestNicknameFormat: "" })).toBeNull();
  });

  it("folds ASCII only, as ergo's casemapping: ascii does", () => {
    // "İ" (U+0130) is not folded to "i": "NİCKSERV" is not NickServ to ergo.
    expect(unusableAccountName("N\u0130CKSERV")).toBeNull();
    expect(unusableAccountName("NICKSERV")?.message).toMatch(/reserves for its services/);
  });
});
