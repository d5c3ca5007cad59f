import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import {
  createErgoAdmin,
  ErgoRejected,
  ErgoTimeout,
  ErgoUnavailable,
  OperAuthFailed,
  type ErgoAdmin,
  type ErgoAdminOptions,
} from "../src/index";
import {
  captureLogger,
  closedPort,
  countingProxy,
  errorTexts,
  eventually,
  makeSecret,
  mutedAfterOperServer,
  recordingProxy,
  rejectionOf,
  silentServer,
  sleep,
  uniqueName,
  type TestServer,
} from "./helpers";

/** Behaviour only the IRC oper-session adapter has. */

const ADMIN_NICK = "irc-now-admin";

const toClose: Array<{ close(): Promise<void> }> = [];
const track = <T extends { close(): Promise<void> }>(thing: T): T => {
  toClose.push(thing);
  return thing;
};
/** Starts a stand-in that afterEach stops. */
async function ergoStandin(options?: Parameters<typeof startErgoStandin>[0]): Promise<ErgoStandin> {
  const ergo = await startErgoStandin(options);
  track({ close: () => ergo.stop() });
  return ergo;
}
afterEach(async () => {
  for (const thing of toClose.splice(0).reverse()) await thing.close();
});

function ircAdmin(
  url: string,
  oper: { name: string; password: string },
  options: ErgoAdminOptions = {},
): ErgoAdmin {
  return track(
    createErgoAdmin(
      {
        ERGO_IRC_URL: url,
        ERGO_OPER_NAME: oper.name,
        ERGO_OPER_PASSWORD: oper.password,
        ERGO_ADMIN_NICK: ADMIN_NICK,
      },
      options,
    ),
  );
}

describe("IRC adapter: wrong oper password", () => {
  let ergo: ErgoStandin;
  const operPassword = makeSecret("oper");
  beforeAll(async () => {
    ergo = await startErgoStandin({ opers: [{ name: "admin", password: operPassword }] });
  });
  afterAll(async () => ergo?.stop());

  it("fails fast with OperAuthFailed, and does not reconnect", async () => {
    const proxy = track(await countingProxy(ergo.ircPort));
    const wrong = makeSecret("wrong");
    const capture = captureLogger();
    const admin = ircAdmin(
      `irc://127.0.0.1:${proxy.port}`,
      { name: "admin", password: wrong },
      { logger: capture.logger, reconnectInitialDelayMs: 5, reconnectMaxDelayMs: 20 },
    );

    const first = await rejectionOf(admin.ensureAccount(uniqueName("a"), makeSecret("user")));
    expect(first).toBeInstanceOf(OperAuthFailed);
    expect((first as OperAuthFailed).retryable).toBe(false);
    expect(proxy.connections()).toBe(1);

    // the next calls fail with the same error, without a new connection
    const second = await rejectionOf(admin.whois("someone"));
    expect(second).toBeInstanceOf(OperAuthFailed);
    expect((second as Error).message).toBe((first as Error).message);
    await expect(admin.ensureAccount(uniqueName("b"), makeSecret("user"))).rejects.toBeInstanceOf(
      OperAuthFailed,
    );
    // with a 5–20 ms backoff, a reconnect loop would have made dozens of connections by now
    await sleep(500);
    expect(proxy.connections()).toBe(1);

    for (const err of [first, second]) {
      expect(errorTexts(err)).not.toContain(wrong);
      expect(errorTexts(err)).not.toContain(operPassword);
    }
    expect(capture.text()).not.toContain(wrong);
    expect(capture.text()).not.toContain(operPassword);
  });

  it("tries once more after the cool-down", async () => {
    const proxy = track(await countingProxy(ergo.ircPort));
    const admin = ircAdmin(
      `irc://127.0.0.1:${proxy.port}`,
      { name: "admin", password: makeSecret("wrong") },
      { operFailureCooldownMs: 300 },
    );
    await expect(admin.whois("x")).rejects.toBeInstanceOf(OperAuthFailed);
    expect(proxy.connections()).toBe(1);
    await sleep(400);
    await expect(admin.whois("x")).rejects.toBeInstanceOf(OperAuthFailed);
    expect(proxy.connections()).toBe(2);
  });

  it("the right password works through the same path", async () => {
    const admin = ircAdmin(ergo.ircUrl, { name: "admin", password: operPassword });
    await expect(admin.ensureAccount(uniqueName("ok"), makeSecret("user"))).resolves.toBe(
      "created",
    );
  });
});

describe("IRC adapter: ergo restarts", () => {
  it("after a restart mid-session, the next command succeeds on a new connection", async () => {
    const ergo = await ergoStandin();
    const proxy = track(await countingProxy(ergo.ircPort));
    const admin = ircAdmin(`irc://127.0.0.1:${proxy.port}`, ergo.oper);
    await expect(admin.ensureAccount(uniqueName("before"), makeSecret("pw"))).resolves.toBe(
      "created",
    );
    expect(proxy.connections()).toBe(1);

    await ergo.restart();
    const account = uniqueName("after");
    const password = makeSecret("pw");
    await expect(admin.ensureAccount(account, password)).resolves.toBe("created");
    await expect(admin.checkCredentials(account, password)).resolves.toBe(true);
    await expect(admin.whois(uniqueName("absent"))).resolves.toBeNull();
    expect(ergo.clients().map((c) => c.nick)).toContain(ADMIN_NICK);

    // and again, this time idle until the session is back
    await ergo.restart();
    await eventually(() => ergo.clients().some((c) => c.nick === ADMIN_NICK), "session back");
    await expect(admin.ensureAccount(uniqueName("again"), makeSecret("pw"))).resolves.toBe(
      "created",
    );
  });

  it("after ergo stops and starts again on the same port, the next command succeeds", async () => {
    const first = await startErgoStandin();
    const port = first.ircPort;
    const oper = first.oper;
    const admin = ircAdmin(first.ircUrl, oper);
    await expect(admin.ensureAccount(uniqueName("one"), makeSecret("pw"))).resolves.toBe("created");
    await first.stop();

    const second = await ergoStandin({ ircPort: port, opers: [oper] });
    const account = uniqueName("two");
    await expect(admin.ensureAccount(account, makeSecret("pw"))).resolves.toBe("created");
    expect(second.accountExists(account)).toBe(true);
  });
});

describe("IRC adapter: pipelined commands", () => {
  it("sends concurrent commands without waiting for each other's answers; each gets its own", async () => {
    const ergo = await ergoStandin();
    const wire: string[] = [];
    const proxy = track(
      await recordingProxy(ergo.ircPort, (direction, line) => {
        if (direction === "→" && / SAREGISTER /i.test(line)) wire.push("→ SAREGISTER");
        if (direction === "←" && / PONG .*irc-now-/.test(line)) wire.push("← PONG");
      }),
    );
    const admin = ircAdmin(`irc://127.0.0.1:${proxy.port}`, ergo.oper);
    await admin.whois("nobody-here"); // the session is up
    wire.length = 0;
    const accounts = Array.from({ length: 4 }, () => ({
      name: uniqueName("pipe"),
      password: makeSecret("pw"),
    }));
    const registered = await Promise.all(accounts.map((a) => admin.register(a.name, a.password)));
    expect(registered).toEqual(["created", "created", "created", "created"]);
    // All four were on the wire before the first answer came back (one at a time: → ← → ← …).
    expect(wire.slice(0, 4)).toEqual(Array(4).fill("→ SAREGISTER"));
    for (const a of accounts) expect(await ergo.checkPassword(a.name, a.password)).toBe(true);
    // Mixed answers stay with their own commands: two new accounts between two existing ones.
    const more = [accounts[0]!, { name: uniqueName("pipe"), password: makeSecret("pw") }];
    const mixed = await Promise.all([
      admin.register(more[0]!.name, more[0]!.password),
      admin.register(more[1]!.name, more[1]!.password),
      admin.whois("nobody-here"),
      admin.register(accounts[1]!.name, accounts[1]!.password),
    ]);
    expect(mixed).toEqual(["exists", "created", null, "exists"]);
  });

  it("with one command allowed in flight, each waits for the answer before it", async () => {
    const ergo = await ergoStandin();
    const wire: string[] = [];
    const proxy = track(
      await recordingProxy(ergo.ircPort, (direction, line) => {
        if (direction === "→" && / SAREGISTER /i.test(line)) wire.push("→");
        if (direction === "←" && / PONG .*irc-now-/.test(line)) wire.push("←");
      }),
    );
    const admin = ircAdmin(`irc://127.0.0.1:${proxy.port}`, ergo.oper, {
      maxCommandsInFlight: 1,
    });
    await admin.whois("nobody-here");
    wire.length = 0;
    await Promise.all([1, 2, 3].map(() => admin.register(uniqueName("one"), makeSecret("pw"))));
    expect(wire).toEqual(["→", "←", "→", "←", "→", "←"]);
  });

  it("a command ergo never answers ends every command pipelined behind it (ErgoTimeout)", async () => {
    const server = track(await mutedAfterOperServer());
    const admin = ircAdmin(
      `irc://127.0.0.1:${server.port}`,
      { name: "admin", password: makeSecret("oper") },
      { commandTimeoutMs: 300, reconnectInitialDelayMs: 10 },
    );
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => admin.register(uniqueName("t"), makeSecret("pw"))),
    );
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ErgoTimeout);
    }
  });
});

describe("IRC adapter: timeouts and unreachable ergo", () => {
  let server: TestServer;
  afterEach(async () => server?.close());

  it("a server that accepts and never answers → ErgoTimeout", async () => {
    server = await silentServer();
    const admin = ircAdmin(
      `irc://127.0.0.1:${server.port}`,
      { name: "admin", password: makeSecret("oper") },
      { connectTimeoutMs: 500 },
    );
    const err = await rejectionOf(admin.ensureAccount(uniqueName("t"), makeSecret("pw")));
    expect(err).toBeInstanceOf(ErgoTimeout);
    expect((err as ErgoTimeout).retryable).toBe(true);
  });

  it("a command ergo never answers → ErgoTimeout (per command), then a fresh connection", async () => {
    server = await mutedAfterOperServer();
    const password = makeSecret("pw");
    const admin = ircAdmin(
      `irc://127.0.0.1:${server.port}`,
      { name: "admin", password: makeSecret("oper") },
      { commandTimeoutMs: 400, reconnectInitialDelayMs: 10 },
    );
    const err = await rejectionOf(admin.ensureAccount(uniqueName("t"), password));
    expect(err).toBeInstanceOf(ErgoTimeout);
    expect(errorTexts(err)).not.toContain(password);
    await expect(admin.whois("someone")).rejects.toBeInstanceOf(ErgoTimeout);
    // a timed-out session is dropped (late replies must not be read as the next command's)
    expect(server.connections()).toBeGreaterThanOrEqual(2);
  });

  it("nothing listening → ErgoUnavailable", async () => {
    const port = await closedPort();
    const admin = ircAdmin(
      `irc://127.0.0.1:${port}`,
      { name: "admin", password: makeSecret("oper") },
      { connectTimeoutMs: 2_000, reconnectInitialDelayMs: 50 },
    );
    const err = await rejectionOf(admin.whois("someone"));
    expect(err).toBeInstanceOf(ErgoUnavailable);
    expect((err as Error).message).toContain("ECONNREFUSED");
    await expect(admin.checkCredentials("someone", makeSecret("pw"))).rejects.toBeInstanceOf(
      ErgoUnavailable,
    );
  });

  it("close() ends pending and later calls with ErgoUnavailable", async () => {
    server = await silentServer();
    const admin = ircAdmin(
      `irc://127.0.0.1:${server.port}`,
      { name: "admin", password: makeSecret("oper") },
      { connectTimeoutMs: 20_000 },
    );
    const pending = rejectionOf(admin.whois("someone"));
    await eventually(() => server.connections() === 1, "connection attempt");
    await admin.close();
    expect(await pending).toBeInstanceOf(ErgoUnavailable);
    await expect(admin.whois("someone")).rejects.toBeInstanceOf(ErgoUnavailable);
  });
});

describe("IRC adapter: the admin nick", () => {
  it("refuses to register the session's own nick, in any case", async () => {
    const ergo = await ergoStandin();
    const admin = ircAdmin(ergo.ircUrl, ergo.oper);
    await expect(admin.whois(ADMIN_NICK)).resolves.toBeNull(); // session up
    for (const name of [ADMIN_NICK, ADMIN_NICK.toUpperCase(), "Irc-Now-Admin"]) {
      const err = await rejectionOf(admin.ensureAccount(name, makeSecret("pw")));
      expect(err).toBeInstanceOf(ErgoRejected);
      expect((err as Error).message).toContain("ERGO_ADMIN_NICK");
    }
    expect(ergo.accountExists(ADMIN_NICK)).toBe(false);
    expect(ergo.clients().map((c) => c.nick)).toContain(ADMIN_NICK);
  });

  it("keeps working when ergo renames the session anyway", async () => {
    const ergo = await ergoStandin();
    const capture = captureLogger();
    const admin = ircAdmin(ergo.ircUrl, ergo.oper, { logger: capture.logger });
    await expect(admin.ensureAccount(uniqueName("pre"), makeSecret("pw"))).resolves.toBe("created");

    // someone registers the admin nick as an account: strict nick enforcement renames the session
    await ergo.registerAccount(ADMIN_NICK, makeSecret("other"));
    await eventually(
      () => ergo.clients().some((c) => c.oper !== null && c.nick.startsWith("Guest-")),
      "session renamed to Guest-…",
    );
    const guestNick = ergo.clients().find((c) => c.oper !== null)?.nick ?? "";
    await eventually(
      () =>
        capture.records.some(
          (r) => r.level === "warn" && JSON.stringify(r.obj).includes(guestNick),
        ),
      "rename noticed",
    );

    const account = uniqueName("post");
    const password = makeSecret("pw");
    await expect(admin.ensureAccount(account, password)).resolves.toBe("created");
    await expect(admin.ensureAccount(account, makeSecret("pw2"))).resolves.toBe("reset");
    await expect(admin.whois(guestNick)).resolves.toBeNull();
    // the current (Guest) nick is guarded as well
    await expect(admin.ensureAccount(guestNick, makeSecret("pw"))).rejects.toBeInstanceOf(
      ErgoRejected,
    );
  });

  it("takes another nick when the admin nick is in use at connect time", async () => {
    const ergo = await ergoStandin();
    const first = ircAdmin(ergo.ircUrl, ergo.oper);
    await expect(first.whois("x")).resolves.toBeNull();
    const second = ircAdmin(ergo.ircUrl, ergo.oper);
    await expect(second.ensureAccount(uniqueName("dup"), makeSecret("pw"))).resolves.toBe(
      "created",
    );
    const nicks = ergo.clients().map((c) => c.nick);
    expect(nicks).toContain(ADMIN_NICK);
    expect(nicks.some((n) => n.startsWith(`${ADMIN_NICK}-`))).toBe(true);
  });
});

describe("IRC adapter: TLS (ircs://)", () => {
  let ergo: ErgoStandin;
  beforeAll(async () => {
    ergo = await startErgoStandin({ tls: true });
  });
  afterAll(async () => ergo?.stop());

  it("works over TLS when self-signed certificates are accepted", async () => {
    const admin = ircAdmin(ergo.ircsUrl ?? "", ergo.oper, { tlsRejectUnauthorized: false });
    const account = uniqueName("tls");
    const password = makeSecret("pw");
    await expect(admin.ensureAccount(account, password)).resolves.toBe("created");
    await expect(admin.checkCredentials(account, password)).resolves.toBe(true);
    expect(ergo.clients().find((c) => c.nick === ADMIN_NICK)?.secure).toBe(true);
  });

  it("verifies the certificate by default (a self-signed one → ErgoUnavailable)", async () => {
    const admin = ircAdmin(ergo.ircsUrl ?? "", ergo.oper, {
      connectTimeoutMs: 2_000,
      reconnectInitialDelayMs: 100,
    });
    await expect(admin.whois("x")).rejects.toBeInstanceOf(ErgoUnavailable);
    await expect(admin.checkCredentials("x", makeSecret("pw"))).rejects.toBeInstanceOf(
      ErgoUnavailable,
    );
  });
});
