/**
 * The SojuAdmin contract, run against every adapter (socket, exec, sql-restart) with real
 * stand-ins: PostgreSQL (the tenant DB), the soju stand-in (BouncerServ, sojuctl, upstream SASL),
 * ergo (the upstream network, WHOIS) and the Kubernetes API (pods, exec, secrets).
 *
 * Under `npm run test:peers` (REAL_PEERS=1) the same cases run against the real soju 0.10.1,
 * ergo 2.15.0 and kube-apiserver of the peers kit (./worlds.ts), for `socket` and `sql-restart`.
 * `exec` stays stand-in only: it needs pods/exec, which a kube-apiserver without kubelet cannot do.
 */
import bcrypt from "bcryptjs";
import { realPeersRequested } from "@irc-now/peers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  SojuCommandFailed,
  SojuInvalidArgument,
  SojuUnsupported,
  type SojuAdmin,
} from "../src/index";
import { rejection, waitFor, type Mode } from "./helpers";
import { RealWorld, StandinWorld, type ContractBouncer, type ContractWorld } from "./worlds";

interface AdapterCase {
  mode: Mode;
  /** Reads soju's live state (BouncerServ); sql-restart only sees the DB. */
  live: boolean;
  /** Words go through sojuctl's strconv.Quote, which mangles tabs: refused. */
  refusesTabs: boolean;
}

const real = realPeersRequested();

const cases: AdapterCase[] = [
  { mode: "socket", live: true, refusesTabs: false },
  ...(real ? [] : [{ mode: "exec" as const, live: true, refusesTabs: true }]),
  { mode: "sql-restart", live: false, refusesTabs: false },
];

function makeWorld(): ContractWorld {
  if (!real) return new StandinWorld();
  const peers = inject("peers");
  if (!peers) throw new Error("REAL_PEERS=1 needs the peers globalSetup (test/peers.config.ts)");
  return new RealWorld(peers);
}

const TRICKY_PASSWORD = `pw with "quotes", \\backslash and 'single' and é`;
const TRICKY_REALNAME = `Bob O'Builder "the 2nd" \\ two  spaces\\`;

describe.each(cases)(
  `SojuAdmin contract${real ? " (real peers)" : ""}: $mode`,
  ({ mode, live, refusesTabs }) => {
    const world = makeWorld();
    const logs: string[] = [];
    /** Every secret this suite hands to the adapter: none may show up in logs or error texts. */
    const secrets: string[] = [];
    let admin: SojuAdmin;
    let bouncer: ContractBouncer;
    let b: string;
    /** Per-adapter names: ergo is shared by nothing else here, but keep nicks distinct anyway. */
    const u = (base: string) => `${base}${mode.replace(/[^a-z]/g, "").slice(0, 4)}`;
    const secret = (s: string) => {
      secrets.push(s);
      return s;
    };

    beforeAll(async () => {
      await world.start();
      b = `bnc-${mode.replace(/[^a-z]/g, "")}`;
      bouncer = await world.bouncer(b);
      admin = world.admin(mode, logs);
    });
    afterAll(() => world.stop());

    it("createUser creates the user with soju's bcrypt hash, then reports exists", async () => {
      const name = u("carol");
      const password = secret(`${TRICKY_PASSWORD} carol`);
      expect(await admin.createUser(b, { username: name, password })).toBe("created");
      expect(await admin.createUser(b, { username: name, password })).toBe("exists");
      const row = await bouncer.user(name);
      expect(row?.password).toMatch(/^\$2a\$10\$/);
      expect(await bcrypt.compare(password, row?.password ?? "")).toBe(true);
      expect(row?.admin).toBe(false);
      expect(row?.enabled).toBe(true);

      const nopw = u("nopw");
      expect(await admin.createUser(b, { username: nopw, disablePassword: true })).toBe("created");
      expect((await bouncer.user(nopw))?.password).toBeNull();
    });

    it("create network (disabled) → sasl set-plain → enable makes soju log in upstream: ergo's WHOIS shows the account", async () => {
      const name = u("alice");
      // ergo passphrases have no spaces; quotes and backslashes still travel through every adapter.
      const password = secret(`Alice-ergo-${mode}-"pw"\\1'`);
      await world.ergo.registerAccount(name, password);
      expect(
        await admin.createUser(b, { username: name, password: secret(`soju-login-${name}`) }),
      ).toBe("created");

      expect(
        await admin.createOrUpdateNetwork(b, name, {
          name: "irc.now",
          addr: world.upstreamAddr,
          nick: name,
          username: name,
          enabled: false,
        }),
      ).toBe("created");
      await admin.setSaslPlain(b, name, "irc.now", name, password);
      await admin.enableNetwork(b, name, "irc.now");

      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount(name)) === name ? name : undefined),
          `ergo WHOIS ${name} logged in`,
        ),
      ).toBe(name);

      const [network] = await bouncer.networks(name, "irc.now");
      expect(network).toMatchObject({
        addr: world.upstreamAddr,
        nick: name,
        username: name,
        enabled: true,
        saslMechanism: "PLAIN",
        saslPlainUsername: name,
        saslPlainPassword: password,
      });

      if (live) {
        const status = await waitFor(async () => {
          const s = await admin.saslStatus(b, name, "irc.now");
          return s.state.kind === "authenticated" ? s : undefined;
        }, "sasl status authenticated");
        expect(status).toEqual({
          plainUsername: name,
          state: { kind: "authenticated", account: name },
        });
        const networks = await waitFor(async () => {
          const n = await admin.networkStatus(b, name);
          return n.some((x) => x.state === "connected") ? n : undefined;
        }, "network status connected");
        expect(networks).toEqual([
          { name: "irc.now", addr: world.upstreamAddr, state: "connected", channels: 0 },
        ]);
      } else {
        expect(await admin.saslStatus(b, name, "irc.now")).toMatchObject({
          plainUsername: name,
          state: { kind: "unknown" },
        });
        expect(await admin.networkStatus(b, name)).toEqual([
          { name: "irc.now", addr: world.upstreamAddr, state: "unknown" },
        ]);
      }
    });

    it("a second createOrUpdateNetwork takes the update path: one row, new values", async () => {
      const name = u("dave");
      await admin.createUser(b, { username: name, password: secret(`dave-pw-${mode}`) });
      const spec = {
        name: "irc.now",
        addr: "irc+insecure://127.0.0.1:1",
        nick: name,
        username: name,
        realname: "First",
        enabled: false,
      };
      expect(await admin.createOrUpdateNetwork(b, name, spec)).toBe("created");
      expect(
        await admin.createOrUpdateNetwork(b, name, {
          ...spec,
          nick: `${name}_2`,
          realname: "Second",
        }),
      ).toBe("updated");
      const rows = await bouncer.networks(name);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        name: "irc.now",
        nick: `${name}_2`,
        realname: "Second",
        enabled: false,
      });
    });

    it("an unknown user or network is a typed SojuCommandFailed", async () => {
      const spec = {
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: "x",
        username: "x",
        enabled: false,
      };
      for (const call of [
        () => admin.createOrUpdateNetwork(b, "nosuchuser", spec),
        () => admin.setSaslPlain(b, "nosuchuser", "irc.now", "x", secret("Unknown-user-pw-1")),
        () => admin.enableNetwork(b, "nosuchuser", "irc.now"),
        () => admin.saslStatus(b, "nosuchuser", "irc.now"),
        () => admin.networkStatus(b, "nosuchuser"),
      ]) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(SojuCommandFailed);
        expect((error as SojuCommandFailed).reply).toBe('unknown username "nosuchuser"');
      }
      const name = u("erin");
      await admin.createUser(b, { username: name, disablePassword: true });
      const error = await rejection(
        admin.setSaslPlain(b, name, "nope", name, secret("Unknown-network-pw-2")),
      );
      expect(error).toBeInstanceOf(SojuCommandFailed);
      expect((error as SojuCommandFailed).reply).toBe('unknown network "nope"');
      expect(error.message).not.toContain("Unknown-network-pw-2");
    });

    it("round-trips spaces, double quotes, single quotes, backslashes and leading dashes (read back from the tenant DB)", async () => {
      const name = u("frank");
      await admin.createUser(b, { username: name, disablePassword: true });
      await admin.createOrUpdateNetwork(b, name, {
        name: "net work",
        addr: world.upstreamAddr,
        nick: name,
        username: "-dash user",
        realname: TRICKY_REALNAME,
        enabled: false,
      });
      const password = secret(`-${TRICKY_PASSWORD}\\`);
      await admin.setSaslPlain(b, name, "net work", `-sasl "user"`, password);
      const [row] = await bouncer.networks(name, "net work");
      expect(row).toMatchObject({
        username: "-dash user",
        realname: TRICKY_REALNAME,
        saslPlainUsername: `-sasl "user"`,
        saslPlainPassword: password,
      });

      // Empty strings are stored as NULL, as soju does.
      await admin.createOrUpdateNetwork(b, name, {
        name: "net work",
        addr: world.upstreamAddr,
        nick: name,
        username: name,
        realname: "",
        enabled: false,
      });
      expect((await bouncer.networks(name, "net work"))[0]?.realname).toBeNull();
    });

    it(
      refusesTabs ? "refuses a tab (sojuctl would turn it into 't')" : "round-trips a tab",
      async () => {
        const name = u("gina");
        await admin.createUser(b, { username: name, disablePassword: true });
        const call = admin.createOrUpdateNetwork(b, name, {
          name: "tabs",
          addr: world.upstreamAddr,
          nick: name,
          username: name,
          realname: "Tab\there",
          enabled: false,
        });
        if (refusesTabs) {
          const error = await rejection(call);
          expect(error).toBeInstanceOf(SojuInvalidArgument);
          expect(error.message).toMatch(/value of -realname.*tab/);
          expect(await bouncer.networks(name, "tabs")).toHaveLength(0);
        } else {
          await call;
          expect((await bouncer.networks(name, "tabs"))[0]?.realname).toBe("Tab\there");
        }
      },
    );

    it("refuses CR, LF and NUL before sending anything", async () => {
      const name = u("hank");
      await admin.createUser(b, { username: name, disablePassword: true });
      await admin.createOrUpdateNetwork(b, name, {
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: name,
        username: name,
        enabled: false,
      });
      const good = secret("Good-pw-before");
      await admin.setSaslPlain(b, name, "irc.now", name, good);
      await bouncer.settled(); // the restart that write caused is counted before, not after
      const restartsBefore = bouncer.restarts;
      for (const bad of ["\r", "\n", "\0", "\r\n"]) {
        const password = `Crlf-Secret-${bad}-tail`;
        secrets.push("Crlf-Secret-");
        const error = await rejection(admin.setSaslPlain(b, name, "irc.now", name, password));
        expect(error).toBeInstanceOf(SojuInvalidArgument);
        expect(error.message).toMatch(/CR, LF or NUL/);
        expect(error.message).not.toContain("Crlf-Secret");

        const other = await rejection(
          admin.createOrUpdateNetwork(b, name, {
            name: "bad",
            addr: world.upstreamAddr,
            nick: name,
            username: name,
            realname: `line${bad}break`,
            enabled: false,
          }),
        );
        expect(other).toBeInstanceOf(SojuInvalidArgument);
        expect(other.message).toContain("-realname");
      }
      expect((await bouncer.networks(name, "irc.now"))[0]?.saslPlainPassword).toBe(good);
      expect(await bouncer.networks(name, "bad")).toHaveLength(0);
      await bouncer.settled();
      expect(bouncer.restarts).toBe(restartsBefore);
    });

    it("saslStatus: unauthenticated with a wrong upstream password, disconnected for a disabled network", async () => {
      const wrong = u("ivan");
      await world.ergo.registerAccount(wrong, secret(`Right-pw-${mode}`));
      await admin.createUser(b, { username: wrong, disablePassword: true });
      await admin.createOrUpdateNetwork(b, wrong, {
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: wrong,
        username: wrong,
        enabled: false,
      });
      await admin.setSaslPlain(b, wrong, "irc.now", wrong, secret(`Wrong-pw-${mode}`));

      // Disabled: soju does not connect.
      expect(await admin.saslStatus(b, wrong, "irc.now")).toEqual({
        plainUsername: wrong,
        state: { kind: "disconnected" },
      });
      expect(await admin.networkStatus(b, wrong)).toEqual([
        { name: "irc.now", addr: world.upstreamAddr, state: "disabled" },
      ]);

      await admin.enableNetwork(b, wrong, "irc.now");
      if (live) {
        const status = await waitFor(async () => {
          const s = await admin.saslStatus(b, wrong, "irc.now");
          return s.state.kind === "unauthenticated" ? s : undefined;
        }, "sasl status unauthenticated");
        expect(status).toEqual({ plainUsername: wrong, state: { kind: "unauthenticated" } });
        // soju registers anyway, as <nick>_ (the nick is reserved by the account): never logged in.
        expect(await world.ergo.whoisAccount(wrong)).toBeNull();
      } else {
        await bouncer.settled();
        expect((await admin.saslStatus(b, wrong, "irc.now")).state.kind).toBe("unknown");
      }
    });

    it("keeps secrets out of error texts, even when soju echoes them", async () => {
      const name = u("judy");
      await admin.createUser(b, { username: name, disablePassword: true });
      await admin.createOrUpdateNetwork(b, name, {
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: name,
        username: name,
        enabled: false,
      });
      const pw = secret("Echoed-Secret-Pass-77");
      // `-pass <pw> <pw>`: soju answers `unexpected argument: <pw>`.
      const error = await rejection(
        admin.userRun(b, name, ["network", "update", "irc.now", "-pass", pw, pw]),
      );
      if (mode === "sql-restart") {
        expect(error).toBeInstanceOf(SojuUnsupported);
      } else {
        expect(error).toBeInstanceOf(SojuCommandFailed);
        expect((error as SojuCommandFailed).reply).toBe("unexpected argument: [redacted]");
      }
      expect(`${error.message}\n${error.stack ?? ""}`).not.toContain(pw);

      const createPw = secret("User-Create-Secret-88");
      expect(await admin.createUser(b, { username: name, password: createPw })).toBe("exists");
    });

    it("applyUpstreamNetwork: created disabled, credentials, enabled, in one call; soju logs in; again takes the update path", async () => {
      const name = u("kate");
      const password = secret(`Kate-ergo-${mode}-"pw"\\1'`);
      await world.ergo.registerAccount(name, password);
      await admin.createUser(b, { username: name, disablePassword: true });
      const network = { name: "irc.now", addr: world.upstreamAddr, nick: name, username: name };
      expect(await admin.applyUpstreamNetwork(b, name, network, { username: name, password })).toBe(
        "created",
      );
      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount(name)) === name ? name : undefined),
          `ergo WHOIS ${name} logged in`,
        ),
      ).toBe(name);
      expect((await bouncer.networks(name, "irc.now"))[0]).toMatchObject({
        enabled: true,
        saslMechanism: "PLAIN",
        saslPlainUsername: name,
        saslPlainPassword: password,
      });

      const next = secret(`Kate-next-${mode}`);
      expect(
        await admin.applyUpstreamNetwork(
          b,
          name,
          { ...network, realname: "Again" },
          { username: name, password: next },
        ),
      ).toBe("updated");
      await bouncer.settled();
      const rows = await bouncer.networks(name);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ realname: "Again", enabled: true, saslPlainPassword: next });
    });

    it("applyUpstreamNetwork with enableAfter: written disabled while held, enabled once it resolves; never when it rejects", async () => {
      const network = (name: string) => ({
        name: "irc.now",
        addr: world.upstreamAddr,
        nick: name,
        username: name,
      });
      const heldState = async (name: string) => {
        await bouncer.settled();
        return (await bouncer.networks(name, "irc.now"))[0];
      };
      // Until the network is written, as the adapter does it (one turn, or one write, per command).
      const written = async (name: string) =>
        waitFor(
          async () => ((await heldState(name))?.saslPlainPassword ? true : undefined),
          `${name}'s network written`,
        );

      const yes = u("heldyes");
      const password = secret(`Hope-${mode}-pw`);
      await world.ergo.registerAccount(yes, password);
      await admin.createUser(b, { username: yes, disablePassword: true });
      let release!: () => void;
      const applied = admin.applyUpstreamNetwork(
        b,
        yes,
        network(yes),
        { username: yes, password },
        { enableAfter: new Promise<void>((r) => (release = r)) },
      );
      if (mode === "sql-restart") {
        // Nothing is written before the release (each write restarts soju).
        await new Promise((r) => setTimeout(r, 200));
        expect(await heldState(yes)).toBeUndefined();
      } else {
        await written(yes);
        await new Promise((r) => setTimeout(r, 200));
        expect(await heldState(yes)).toMatchObject({ enabled: false, saslPlainPassword: password });
      }
      release();
      expect(await applied).toBe("created");
      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount(yes)) === yes ? yes : undefined),
          `ergo WHOIS ${yes} logged in`,
        ),
      ).toBe(yes);

      const no = u("heldno");
      await admin.createUser(b, { username: no, disablePassword: true });
      let refuse!: (e: Error) => void;
      const refused = admin.applyUpstreamNetwork(
        b,
        no,
        network(no),
        { username: no, password: secret(`Ivan-${mode}-pw`) },
        { enableAfter: new Promise<void>((_, r) => (refuse = r)) },
      );
      if (mode !== "sql-restart") await written(no);
      refuse(new Error("ergo did not accept it"));
      expect((await rejection(refused)).message).toContain("ergo did not accept it");
      await new Promise((r) => setTimeout(r, 200));
      if (mode === "sql-restart") expect(await heldState(no)).toBeUndefined();
      else expect(await heldState(no)).toMatchObject({ enabled: false });

      // An existing, enabled network (another setup's) is not touched while held, and stays
      // enabled when the hold is refused.
      let refuseAgain!: (e: Error) => void;
      const again = admin.applyUpstreamNetwork(
        b,
        yes,
        network(yes),
        { username: yes, password: secret(`Hope-${mode}-other`) },
        { enableAfter: new Promise<void>((_, r) => (refuseAgain = r)) },
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(await heldState(yes)).toMatchObject({ enabled: true, saslPlainPassword: password });
      refuseAgain(new Error("ergo is down"));
      expect((await rejection(again)).message).toContain("ergo is down");
      expect(await heldState(yes)).toMatchObject({ enabled: true, saslPlainPassword: password });
    });

    it("applyUpstreamNetwork stops at a failing second command: the network stays disabled, the error names it", async () => {
      const name = u("liam");
      await admin.createUser(b, { username: name, disablePassword: true });
      // soju stores the SASL password in a VARCHAR(255): a longer one fails `sasl set-plain`
      // after `network create` succeeded.
      const long = secret(`Too-long-${mode}-${"x".repeat(300)}`);
      const error = await rejection(
        admin.applyUpstreamNetwork(
          b,
          name,
          { name: "irc.now", addr: world.upstreamAddr, nick: name, username: name },
          { username: name, password: long },
        ),
      );
      expect(error.message).toContain("sasl set-plain");
      if (mode !== "sql-restart") {
        expect(error).toBeInstanceOf(SojuCommandFailed);
        expect((error as SojuCommandFailed).command).toBe("sasl set-plain");
      }
      expect(error.message).not.toContain("Too-long-");
      await bouncer.settled();
      const rows = await bouncer.networks(name, "irc.now");
      expect(rows).toHaveLength(1);
      expect(rows[0]?.enabled).toBe(false);
      expect(rows[0]?.saslPlainPassword ?? null).toBeNull();
    });

    it("applyUpstreamNetwork refuses CR, LF and NUL in any value before sending anything", async () => {
      const name = u("mona");
      await admin.createUser(b, { username: name, disablePassword: true });
      await bouncer.settled();
      const restartsBefore = bouncer.restarts;
      for (const bad of ["\r", "\n", "\0"]) {
        secrets.push("Apply-Crlf-");
        for (const [network, sasl] of [
          [{ nick: name }, { username: name, password: `Apply-Crlf-${bad}-pw` }],
          [{ nick: `ni${bad}ck` }, { username: name, password: "Apply-Crlf-ok" }],
          [{ nick: name }, { username: `us${bad}er`, password: "Apply-Crlf-ok2" }],
        ] as const) {
          const error = await rejection(
            admin.applyUpstreamNetwork(
              b,
              name,
              { name: "irc.now", addr: world.upstreamAddr, username: name, ...network },
              sasl,
            ),
          );
          expect(error).toBeInstanceOf(SojuInvalidArgument);
          expect(error.message).toMatch(/CR, LF or NUL/);
          expect(error.message).not.toContain("Apply-Crlf");
        }
      }
      expect(await bouncer.networks(name)).toHaveLength(0);
      await bouncer.settled();
      expect(bouncer.restarts).toBe(restartsBefore);
    });

    it("setUserEnabled(false) drops the user's upstream login and refuses it; (true) logs in again; an unknown user is SojuCommandFailed", async () => {
      const name = u("sus");
      const password = secret(`Sus-ergo-${mode}-pw`);
      await world.ergo.registerAccount(name, password);
      await admin.createUser(b, { username: name, disablePassword: true });
      await admin.applyUpstreamNetwork(
        b,
        name,
        { name: "irc.now", addr: world.upstreamAddr, nick: name, username: name },
        { username: name, password },
      );
      await waitFor(
        async () => ((await world.ergo.whoisAccount(name)) === name ? true : undefined),
        `ergo WHOIS ${name} logged in`,
      );

      await admin.setUserEnabled(b, name, false);
      await bouncer.settled();
      expect((await bouncer.user(name))?.enabled).toBe(false);
      await waitFor(
        async () => ((await world.ergo.whoisAccount(name)) === null ? true : undefined),
        `${name} gone from ergo`,
      );
      if (live)
        expect((await admin.saslStatus(b, name, "irc.now")).state).toEqual({
          kind: "disconnected",
        });
      // Again: soju answers `updated user` for an unchanged value too.
      await admin.setUserEnabled(b, name, false);
      await bouncer.settled();
      expect((await bouncer.user(name))?.enabled).toBe(false);

      await admin.setUserEnabled(b, name, true);
      await bouncer.settled();
      expect((await bouncer.user(name))?.enabled).toBe(true);
      expect(
        await waitFor(
          async () => ((await world.ergo.whoisAccount(name)) === name ? name : undefined),
          `ergo WHOIS ${name} logged in again`,
        ),
      ).toBe(name);

      const missing = await rejection(admin.setUserEnabled(b, u("nosuch"), false));
      expect(missing).toBeInstanceOf(SojuCommandFailed);
      expect((missing as SojuCommandFailed).reply).toBe(`unknown username "${u("nosuch")}"`);
    });

    it("no secret shows up in the captured logs", () => {
      expect(logs.length).toBeGreaterThan(10);
      const all = logs.join("\n");
      expect(all).toContain("[redacted]");
      for (const s of secrets) expect(all, `log lines contain a secret`).not.toContain(s);
    });
  },
);
