import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realPeersRequested } from "@irc-now/peers";
import {
  createErgoAdmin,
  ErgoAdminError,
  ErgoRejected,
  type ErgoAdmin,
  type ErgoLogger,
} from "../src/index";
import {
  captureLogger,
  connectClient,
  errorTexts,
  makeSecret,
  rejectionOf,
  uniqueName,
  type IrcTestClient,
} from "./helpers";
import { startRealTarget, startStandinTarget, type ErgoTarget } from "./targets";

/**
 * The ErgoAdmin contract, run against every adapter and against a target ergo: the stand-in in
 * `npm test`, the real ergo 2.15.0 of the peers kit in `npm run test:peers` (REAL_PEERS=1).
 *
 * Stand-in only, because only a stand-in can do them: the `ACCOUNT_EXISTS` code of current ergo
 * in `FAIL REGISTER` (ergo 2.15 answers `USERNAME_EXISTS`, like 2.11.1: the first variant below is
 * what the real ergo does) and the HTTP API (ergo 2.15 has none; it arrived in 2.16–2.19).
 */

type Make = (ergo: ErgoTarget, logger: ErgoLogger) => ErgoAdmin;

const makeIrc: Make = (ergo, logger) =>
  createErgoAdmin(
    {
      ERGO_IRC_URL: ergo.ircUrl,
      ERGO_OPER_NAME: ergo.oper.name,
      ERGO_OPER_PASSWORD: ergo.oper.password,
      ERGO_ADMIN_NICK: "irc-now-admin",
    },
    { logger },
  );

const makeHttp: Make = (ergo, logger) => {
  if (!ergo.api) throw new Error("this ergo has no HTTP API");
  return createErgoAdmin(
    { ERGO_API_URL: ergo.api.url, ERGO_API_TOKEN: ergo.api.token },
    { logger },
  );
};

type Variant = [name: string, start: () => Promise<ErgoTarget>, make: Make, kind: "irc" | "http"];

const variants: Variant[] = realPeersRequested()
  ? [["irc, real ergo 2.15.0 (peers kit)", startRealTarget, makeIrc, "irc"]]
  : [
      [
        "irc, ergo v2.11.1 (FAIL REGISTER USERNAME_EXISTS)",
        () => startStandinTarget({ registerExistsCode: "USERNAME_EXISTS" }),
        makeIrc,
        "irc",
      ],
      [
        "irc, current ergo (FAIL REGISTER ACCOUNT_EXISTS)",
        () => startStandinTarget({ registerExistsCode: "ACCOUNT_EXISTS" }),
        makeIrc,
        "irc",
      ],
      [
        "http API",
        () => startStandinTarget({ registerExistsCode: "ACCOUNT_EXISTS" }),
        makeHttp,
        "http",
      ],
    ];

describe.each(variants)("ErgoAdmin contract — %s", (_name, start, make, kind) => {
  let ergo: ErgoTarget;
  let admin: ErgoAdmin;
  const capture = captureLogger();
  /** Every secret used in this suite: none may appear in a log line or an error. */
  const secrets: string[] = [];
  /** Every error the adapter threw in this suite. */
  const thrown: unknown[] = [];
  const clients: IrcTestClient[] = [];

  const secret = (label: string): string => {
    const value = makeSecret(label);
    secrets.push(value);
    return value;
  };
  const failure = async (promise: Promise<unknown>): Promise<unknown> => {
    const err = await rejectionOf(promise);
    thrown.push(err);
    return err;
  };

  beforeAll(async () => {
    ergo = await start();
    secrets.push(ergo.oper.password);
    if (ergo.api) secrets.push(ergo.api.token);
    admin = make(ergo, capture.logger);
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await admin?.close();
    await ergo?.stop();
  });

  it(`is the ${kind} adapter`, () => {
    expect(admin.kind).toBe(kind);
  });

  it("creates a new account, and its password then authenticates", async () => {
    const account = uniqueName("new");
    const password = secret("new");
    await expect(admin.ensureAccount(account, password)).resolves.toBe("created");
    expect(await ergo.accountExists(account)).toBe(true);
    await expect(ergo.checkPassword(account, password)).resolves.toBe(true);
    await expect(admin.checkCredentials(account, password)).resolves.toBe(true);
  });

  it("resets an existing account: only the new password authenticates", async () => {
    const account = uniqueName("old");
    const oldPassword = secret("old");
    const newPassword = secret("fresh");
    await ergo.registerAccount(account, oldPassword);
    await expect(admin.checkCredentials(account, oldPassword)).resolves.toBe(true);

    await expect(admin.ensureAccount(account, newPassword)).resolves.toBe("reset");
    await expect(admin.checkCredentials(account, newPassword)).resolves.toBe(true);
    await expect(admin.checkCredentials(account, oldPassword)).resolves.toBe(false);
  });

  it("sees an account it created itself as existing, whatever the case of the name", async () => {
    const account = uniqueName("twice");
    const first = secret("first");
    const second = secret("second");
    const third = secret("third");
    await expect(admin.ensureAccount(account, first)).resolves.toBe("created");
    await expect(admin.ensureAccount(account, second)).resolves.toBe("reset");
    await expect(admin.ensureAccount(account.toUpperCase(), third)).resolves.toBe("reset");
    await expect(admin.checkCredentials(account, third)).resolves.toBe(true);
    await expect(admin.checkCredentials(account, second)).resolves.toBe(false);
  });

  it("rejects guest-pattern and restricted names without creating anything", async () => {
    for (const name of [`Guest-${uniqueName("g")}`, "NickServ", "ChanServ"]) {
      const err = await failure(admin.ensureAccount(name, secret("guest")));
      expect(err, name).toBeInstanceOf(ErgoRejected);
      expect((err as ErgoRejected).retryable).toBe(false);
      expect(await ergo.accountExists(name), name).toBe(false);
    }
  });

  it("rejects a name ergo cannot register", async () => {
    const err = await failure(admin.ensureAccount("Bad*Name", secret("bad")));
    expect(err).toBeInstanceOf(ErgoRejected);
    expect(await ergo.accountExists("Bad*Name")).toBe(false);
  });

  it("refuses passwords ergo cannot take, without echoing them", async () => {
    const account = uniqueName("pw");
    for (const password of [`${secret("with")} space`, "*", ""]) {
      const err = await failure(admin.ensureAccount(account, password));
      expect(err).toBeInstanceOf(ErgoRejected);
      if (password.length > 1) expect(errorTexts(err)).not.toContain(password);
    }
    expect(await ergo.accountExists(account)).toBe(false);
  });

  it("refuses names that would break or inject into the protocol", async () => {
    for (const name of ["two words", "evil\r\nQUIT", ":colon", ""]) {
      expect(await failure(admin.ensureAccount(name, secret("inj")))).toBeInstanceOf(ErgoRejected);
      expect(await failure(admin.whois(name))).toBeInstanceOf(ErgoRejected);
    }
  });

  it("checkCredentials is false for an unknown account and for a wrong password", async () => {
    await expect(admin.checkCredentials(uniqueName("nobody"), secret("none"))).resolves.toBe(false);
    const account = uniqueName("wrong");
    await ergo.registerAccount(account, secret("right"));
    await expect(admin.checkCredentials(account, secret("wrong"))).resolves.toBe(false);
  });

  it("whois: a SASL-logged-in client → its account; absent or not logged in → null", async () => {
    const account = uniqueName("who");
    const password = secret("who");
    await expect(admin.ensureAccount(account, password)).resolves.toBe("created");
    const loggedIn = await connectClient(ergo.ircHost, ergo.ircPort, {
      nick: account,
      sasl: { account, password },
    });
    clients.push(loggedIn);
    const anonymous = await connectClient(ergo.ircHost, ergo.ircPort, { nick: uniqueName("anon") });
    clients.push(anonymous);
    expect(await ergo.whoisAccount(loggedIn.nick)).toBe(account);

    await expect(admin.whois(loggedIn.nick)).resolves.toBe(account);
    await expect(admin.whois(loggedIn.nick.toUpperCase())).resolves.toBe(account);
    await expect(admin.whois(anonymous.nick)).resolves.toBeNull();
    await expect(admin.whois(uniqueName("absent"))).resolves.toBeNull();

    await loggedIn.close();
    await expect(admin.whois(account)).resolves.toBeNull();
  });

  if (kind === "irc") {
    it("unregisterAccount erases the account (NS ERASE + its code): gone, password dead, name free; a neighbour's untouched", async () => {
      const account = uniqueName("del");
      const neighbour = `${account}x`;
      const password = secret("del");
      const neighbourPassword = secret("nb");
      await ergo.registerAccount(account, password);
      await ergo.registerAccount(neighbour, neighbourPassword);

      await expect(admin.unregisterAccount(account)).resolves.toBeUndefined();
      expect(await ergo.accountExists(account)).toBe(false);
      await expect(admin.checkCredentials(account, password)).resolves.toBe(false);
      expect(await ergo.accountExists(neighbour)).toBe(true);
      await expect(admin.checkCredentials(neighbour, neighbourPassword)).resolves.toBe(true);
      // erased, not merely unregistered: the name can be registered again
      await expect(admin.register(account, secret("again"))).resolves.toBe("created");
    });

    it("unregisterAccount of an account that does not exist (or no longer) counts as done", async () => {
      const account = uniqueName("gone");
      await expect(admin.unregisterAccount(account)).resolves.toBeUndefined();
      await ergo.registerAccount(account, secret("gone"));
      await admin.unregisterAccount(account.toUpperCase());
      await expect(admin.unregisterAccount(account)).resolves.toBeUndefined();
      expect(await ergo.accountExists(account)).toBe(false);
    });
  } else {
    it("unregisterAccount: ergo's HTTP API has no endpoint for it, so the API alone refuses clearly", async () => {
      const account = uniqueName("api");
      await ergo.registerAccount(account, secret("api"));
      const err = await failure(admin.unregisterAccount(account));
      expect(err).toBeInstanceOf(ErgoRejected);
      expect((err as Error).message).toContain("ERGO_IRC_URL");
      expect(await ergo.accountExists(account)).toBe(true);
    });

    it("unregisterAccount with the oper session configured as well: erased through it", async () => {
      const both = createErgoAdmin(
        {
          ERGO_API_URL: ergo.api!.url,
          ERGO_API_TOKEN: ergo.api!.token,
          ERGO_IRC_URL: ergo.ircUrl,
          ERGO_OPER_NAME: ergo.oper.name,
          ERGO_OPER_PASSWORD: ergo.oper.password,
        },
        { logger: capture.logger },
      );
      try {
        expect(both.kind).toBe("http");
        const account = uniqueName("api2");
        await ergo.registerAccount(account, secret("api2"));
        await both.unregisterAccount(account);
        expect(await ergo.accountExists(account)).toBe(false);
      } finally {
        await both.close();
      }
    });
  }

  it("runs concurrent calls correctly (commands pipelined on the oper session)", async () => {
    const accounts = Array.from({ length: 6 }, () => ({
      name: uniqueName("par"),
      pw: secret("par"),
    }));
    const results = await Promise.all(accounts.map((a) => admin.ensureAccount(a.name, a.pw)));
    expect(results).toEqual(accounts.map(() => "created"));
    const checks = await Promise.all(accounts.map((a) => admin.checkCredentials(a.name, a.pw)));
    expect(checks).toEqual(accounts.map(() => true));
    // Answers stay with their own commands when they differ: resets of the existing accounts
    // (SAREGISTER → exists → PASSWD) interleaved with new registrations and lookups.
    const fresh = Array.from({ length: 3 }, () => ({ name: uniqueName("par"), pw: secret("par") }));
    const resets = accounts.slice(0, 3).map((a) => ({ name: a.name, pw: secret("par") }));
    const mixed = await Promise.all([
      ...resets.map((a) => admin.ensureAccount(a.name, a.pw)),
      ...fresh.map((a) => admin.ensureAccount(a.name, a.pw)),
      admin.whois(uniqueName("nobody")),
    ]);
    expect(mixed).toEqual(["reset", "reset", "reset", "created", "created", "created", null]);
    for (const a of [...resets, ...fresh])
      expect(await ergo.checkPassword(a.name, a.pw)).toBe(true);
  });

  it("never puts a secret into a log line or an error text", async () => {
    // one more failing call carrying a password, so the check below has something to find
    thrown.push(await rejectionOf(admin.ensureAccount("NickServ", secret("last"))));
    expect(thrown.length).toBeGreaterThan(5);
    for (const err of thrown) expect(err).toBeInstanceOf(ErgoAdminError);
    expect(capture.records.length).toBeGreaterThan(0);
    const logs = capture.text();
    const errors = thrown.map(errorTexts).join("\n");
    for (const value of secrets) {
      expect(logs.includes(value), "a secret is in the logs").toBe(false);
      expect(errors.includes(value), "a secret is in an error").toBe(false);
    }
  });
});
