import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { RawClient, rawRegister } from "./helpers";

let ergo: ErgoStandin;
const open: RawClient[] = [];

beforeAll(async () => {
  ergo = await startErgoStandin({ tls: true });
  await ergo.registerAccount("multi", "multipass");
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

describe("startErgoStandin", () => {
  it("listens on 127.0.0.1 and describes itself", () => {
    expect(ergo.ircHost).toBe("127.0.0.1");
    expect(ergo.ircUrl).toBe(`irc://127.0.0.1:${ergo.ircPort}`);
    expect(ergo.ircsUrl).toBe(`ircs://127.0.0.1:${ergo.ircsPort}`);
    expect(ergo.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ergo.apiToken.length).toBeGreaterThan(16);
    expect(ergo.oper.name).toBe("admin");
    expect(ergo.oper.password.length).toBeGreaterThan(8);
    expect(ergo.serverName).toBe("ergo.test");
  });

  it("reports connected clients, their accounts and the account store", async () => {
    const c = await rawRegister(ergo, "multi", {
      sasl: { account: "multi", password: "multipass" },
    });
    open.push(c);
    expect(ergo.accountExists("MULTI")).toBe(true);
    expect(ergo.accountExists("absent")).toBe(false);
    expect(ergo.whoisAccount("multi")).toBe("multi");
    expect(ergo.whoisAccount("absent")).toBeNull();
    expect(ergo.clients().find((u) => u.nick === "multi")).toMatchObject({
      account: "multi",
      sessions: 1,
      // ergo counts loopback connections as secure (seen on ergo 2.15.0)
      secure: true,
      oper: null,
    });
  });

  it("attaches a second SASL connection of the same account to the same nick (multiclient)", async () => {
    const second = await rawRegister(ergo, "multi", {
      sasl: { account: "multi", password: "multipass" },
    });
    open.push(second);
    expect(ergo.clients().filter((u) => u.nick === "multi")).toHaveLength(1);
    expect(ergo.clients().find((u) => u.nick === "multi")?.sessions).toBe(2);
    second.send("QUIT :one of two");
    await second.closed;
    expect(ergo.whoisAccount("multi")).toBe("multi");
    expect(ergo.clients().find((u) => u.nick === "multi")?.sessions).toBe(1);
  });

  it("restart() drops every connection but keeps accounts", async () => {
    const c = await rawRegister(ergo, "restarted");
    await ergo.restart();
    await c.closed;
    expect(ergo.clients()).toEqual([]);
    expect(ergo.accountExists("multi")).toBe(true);
    const again = await rawRegister(ergo, "multi", {
      sasl: { account: "multi", password: "multipass" },
    });
    open.push(again);
    expect(ergo.whoisAccount("multi")).toBe("multi");
  });
});

describe("TLS", () => {
  it("serves IRC over TLS with a certificate clients can verify, and WHOIS shows 671", async () => {
    expect(ergo.tlsCert).toContain("BEGIN CERTIFICATE");
    const secure = await RawClient.connect(ergo.ircsPort ?? 0, { tlsCa: ergo.tlsCert ?? "" });
    open.push(secure);
    secure.send("NICK secureone", "USER u 0 * :secure");
    await secure.next(/ 376 /);
    const watcher = await rawRegister(ergo, "tlswatcher");
    open.push(watcher);
    watcher.send("WHOIS secureone");
    const lines = await watcher.until(/ 318 /);
    expect(lines).toContain(":ergo.test 671 tlswatcher secureone :is using a secure connection");
    expect(ergo.clients().find((u) => u.nick === "secureone")?.secure).toBe(true);
  });
});

describe("stop()", () => {
  it("closes the ports", async () => {
    const other = await startErgoStandin();
    const port = other.ircPort;
    await other.stop();
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port });
      s.on("connect", () => {
        s.destroy();
        resolve(false);
      });
      s.on("error", () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});

describe("disconnect() and labeled-response", () => {
  it("disconnect() closes every session of a nick with ERROR", async () => {
    const c = await rawRegister(ergo, "victim");
    open.push(c);
    expect(ergo.disconnect("victim")).toBe(true);
    const lines = await c.until(/^ERROR /);
    expect(lines[lines.length - 1]).toBe("ERROR Killed");
    await c.closed;
    expect(ergo.disconnect("victim")).toBe(false);
  });

  it("labels single replies and ACKs silent commands", async () => {
    const c = await rawRegister(ergo, "labeler", { caps: ["labeled-response", "batch"] });
    open.push(c);
    c.send("@label=l1 PING tok");
    expect(await c.next(/PONG/)).toBe("@label=l1 :ergo.test PONG ergo.test tok");
    c.send("@label=l2 PONG x");
    expect(await c.next(/ACK/)).toBe("@label=l2 :ergo.test ACK");
    c.send("@label=l3 WHOIS nobody");
    const lines = await c.until(/^:ergo\.test BATCH -/);
    expect(lines[0]).toMatch(/^@label=l3 :ergo\.test BATCH \+(\S+) labeled-response$/);
    const id = /BATCH \+(\S+)/.exec(lines[0] ?? "")?.[1] ?? "";
    expect(lines.slice(1, -1)).toEqual([
      `@batch=${id} :ergo.test 401 labeler nobody :No such nick`,
      `@batch=${id} :ergo.test 318 labeler nobody :End of /WHOIS list`,
    ]);
  });
});
