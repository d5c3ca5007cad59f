import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import {
  frameworkClient,
  frameworkQuit,
  frameworkWhois,
  type RawClient,
  rawRegister,
} from "./helpers";

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

describe("WHOIS", () => {
  it("shows 330 `<me> <nick> <account> :is logged in as` for a SASL-logged-in client", async () => {
    const alice = await rawRegister(ergo, "alice", {
      sasl: { account: "alice", password: "s3cret1" },
    });
    const watcher = await rawRegister(ergo, "watcher");
    open.push(alice, watcher);
    watcher.send("WHOIS alice");
    const lines = await watcher.until(/ 318 /);
    expect(lines[0]).toMatch(/^:ergo\.test 311 watcher alice ~u [a-z2-9]{13}\.irc \* alice$/);
    expect(lines).toContain(":ergo.test 330 watcher alice alice :is logged in as");
    expect(lines.find((l) => / 317 /.test(l))).toMatch(
      /^:ergo\.test 317 watcher alice \d+ \d+ :seconds idle, signon time$/,
    );
    expect(lines[lines.length - 1]).toBe(":ergo.test 318 watcher alice :End of /WHOIS list");
    // ergo 2.15.0: a loopback connection counts as secure, plain text or not
    expect(lines).toContain(":ergo.test 671 watcher alice :is using a secure connection");
  });

  it("has no 330 for a client that is not logged in", async () => {
    const plain = await rawRegister(ergo, "plainnick");
    const watcher = await rawRegister(ergo, "watcher2");
    open.push(plain, watcher);
    watcher.send("WHOIS plainnick");
    const lines = await watcher.until(/ 318 /);
    expect(lines.some((l) => / 330 /.test(l))).toBe(false);
    expect(lines[0]).toMatch(/^:ergo\.test 311 watcher2 plainnick /);
  });

  it("answers 401 No such nick + 318 for a nick that is not online", async () => {
    const watcher = await rawRegister(ergo, "watcher3");
    open.push(watcher);
    watcher.send("WHOIS bob");
    expect(await watcher.until(/ 318 /)).toEqual([
      ":ergo.test 401 watcher3 bob :No such nick",
      ":ergo.test 318 watcher3 bob :End of /WHOIS list",
    ]);
  });

  it("is understood by irc-framework (account and not_found)", async () => {
    await ergo.registerAccount("fwuser", "fwpass123");
    const logged = await frameworkClient(ergo, {
      nick: "fwuser",
      username: "fw",
      account: { account: "fwuser", password: "fwpass123" },
    });
    const asker = await frameworkClient(ergo, { nick: "fwasker", username: "ask" });
    const found = await frameworkWhois(asker, "fwuser");
    expect(found.account).toBe("fwuser");
    expect(found.nick).toBe("fwuser");
    const missing = await frameworkWhois(asker, "nobodyhere");
    expect(missing.error).toBe("not_found");
    await frameworkQuit(logged);
    await frameworkQuit(asker);
  });
});
