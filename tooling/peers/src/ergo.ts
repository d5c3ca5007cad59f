import { randomBytes } from "node:crypto";
import { freePort, kitStart, makeStateDir, withFreshPorts } from "./kit";
import { IrcLineClient, type IrcLine } from "./irc";
import { track } from "./registry";

/** What a running real ergo (v2.15.0, from the kit) is: plain data, safe to pass between processes. */
export interface ErgoFacts {
  /** `irc://127.0.0.1:<port>` (plain text; ergo 2.15 has no HTTP API). */
  ircUrl: string;
  host: string;
  port: number;
  /** `ergo.test` */
  serverName: string;
  /** Oper `admin`, class server-admin (has `accreg`). */
  oper: { name: string; password: string };
  stateDir: string;
  logFile: string;
  pid: number;
}

export interface StartErgoOptions {
  /** State directory (created when missing, kept after stop). Default: a new one, removed on stop. */
  stateDir?: string;
  /** Default: a free port. */
  port?: number;
  /** Default: random (printable ASCII, no spaces). */
  operPassword?: string;
  /** `ERGO__SECTION__KEY=value` config overrides, e.g. `{ ERGO__FAKELAG__ENABLED: "false" }`. */
  env?: Record<string, string>;
}

export interface RealErgo extends ErgoFacts, ErgoProbe {
  /** The facts alone (e.g. for Vitest's `provide`). */
  facts(): ErgoFacts;
  /** Stops ergo (SIGTERM, then SIGKILL) and removes the state dir when this call created it. */
  stop(): Promise<void>;
}

/** Starts the kit's real ergo on 127.0.0.1. Accounts persist in the state dir across restarts. */
export async function startErgo(options: StartErgoOptions = {}): Promise<RealErgo> {
  const owned = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await makeStateDir("ergo-"));
  const stop = track("ergo.sh", stateDir, owned);
  try {
    const facts = await withFreshPorts(async () => {
      const port = options.port ?? (await freePort());
      return kitStart("ergo.sh", [stateDir, String(port)], {
        ...process.env,
        ERGO_OPER_PASSWORD: options.operPassword ?? randomBytes(12).toString("hex"),
        ...options.env,
      });
    });
    const ergo: ErgoFacts = {
      ircUrl: need(facts, "ERGO_IRC_URL"),
      host: need(facts, "ERGO_HOST"),
      port: Number(need(facts, "ERGO_PORT")),
      serverName: need(facts, "ERGO_SERVER_NAME"),
      oper: { name: need(facts, "ERGO_OPER_NAME"), password: need(facts, "ERGO_OPER_PASSWORD") },
      stateDir,
      logFile: need(facts, "ERGO_LOG"),
      pid: Number(need(facts, "PID")),
    };
    return {
      ...ergo,
      ...ergoProbe(ergo),
      facts: () => ({ ...ergo, oper: { ...ergo.oper } }),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

function need(facts: Record<string, string>, key: string): string {
  const value = facts[key];
  if (value === undefined) throw new Error(`the kit did not report ${key}`);
  return value;
}

/**
 * Observing and arranging a real ergo over plain IRC, independently of the product's ErgoAdmin
 * (each call opens its own short connection). Works on any `ErgoFacts`, e.g. one from `inject`.
 */
export interface ErgoProbe {
  /** Oper `NS SAREGISTER`; rejects with NickServ's text unless it says the account was made. */
  registerAccount(account: string, password: string): Promise<void>;
  /** `NS INFO <account>`: true when ergo shows it as a registered account. */
  accountExists(account: string): Promise<boolean>;
  /** A SASL PLAIN login on a fresh connection: true on 903, false on 904. */
  checkPassword(account: string, password: string): Promise<boolean>;
  /** `WHOIS <nick>`: the account of its 330 line, or null (absent, or not logged in). */
  whoisAccount(nick: string): Promise<string | null>;
  /** The numerics of a `WHOIS <nick>` reply up to 318 (for assertions on the raw lines). */
  whois(nick: string): Promise<IrcLine[]>;
  /** Runs raw lines in an oper session and returns every line received until `until` matches. */
  asOper(lines: string[], until: (line: IrcLine) => boolean): Promise<IrcLine[]>;
}

const probeNick = (label: string) => `peer${label}${randomBytes(4).toString("hex")}`;

async function session<T>(
  ergo: ErgoFacts,
  label: string,
  fn: (client: IrcLineClient) => Promise<T>,
): Promise<T> {
  const client = await IrcLineClient.connect(ergo.host, ergo.port);
  try {
    await client.register(probeNick(label));
    return await fn(client);
  } finally {
    await client.close();
  }
}

const isNickServ = (line: IrcLine) =>
  line.command === "NOTICE" && line.source.toLowerCase() === "nickserv";

export function ergoProbe(ergo: ErgoFacts): ErgoProbe {
  const asOper: ErgoProbe["asOper"] = (lines, until) =>
    session(ergo, "op", async (client) => {
      let from = client.mark();
      client.send(`OPER ${ergo.oper.name} ${ergo.oper.password}`);
      const oper = await client.waitFor(
        (l) => l.command === "381" || l.command === "464" || l.command === "491",
        "OPER reply",
        { from },
      );
      if (oper.command !== "381") throw new Error(`OPER refused: ${oper.raw}`);
      from = client.mark();
      for (const line of lines) client.send(line);
      await client.waitFor(until, "the oper command's reply", { from });
      return client.lines.slice(from);
    });

  const whois: ErgoProbe["whois"] = (nick) =>
    session(ergo, "who", async (client) => {
      const from = client.mark();
      client.send(`WHOIS ${nick}`);
      await client.waitFor((l) => l.command === "318", "318 end of WHOIS", { from });
      // the WHOIS numerics about this nick (`<code> <me> <nick> …`), in order
      const wanted = nick.toLowerCase();
      return client.lines
        .slice(from)
        .filter((l) => /^\d{3}$/.test(l.command) && l.params[1]?.toLowerCase() === wanted);
    });

  return {
    asOper,
    async registerAccount(account, password) {
      const lines = await asOper([`NS SAREGISTER ${account} ${password}`], isNickServ);
      const text = lines.find(isNickServ)?.params.at(-1) ?? "";
      if (!text.startsWith("Successfully registered account"))
        throw new Error(`SAREGISTER ${account}: ${text}`);
    },
    async accountExists(account) {
      return session(ergo, "info", async (client) => {
        const from = client.mark();
        client.send(`NS INFO ${account}`);
        const reply = await client.waitFor(isNickServ, "NS INFO reply", { from });
        const text = reply.params.at(-1) ?? "";
        if (text.startsWith("Account: ")) return true;
        if (text === "That nickname is not registered" || text === "No such account") return false;
        throw new Error(`NS INFO ${account}: unexpected reply ${text}`);
      });
    },
    async checkPassword(account, password) {
      const client = await IrcLineClient.connect(ergo.host, ergo.port);
      try {
        const nick = probeNick("sasl");
        client.send("CAP LS 302");
        client.send(`NICK ${nick}`);
        client.send(`USER ${nick} 0 * :${nick}`);
        client.send("CAP REQ :sasl");
        await client.waitFor((l) => l.command === "CAP" && l.params[1] === "ACK", "CAP ACK sasl");
        client.send("AUTHENTICATE PLAIN");
        await client.waitFor((l) => l.command === "AUTHENTICATE", "AUTHENTICATE +");
        const payload = Buffer.from(`\0${account}\0${password}`, "utf8").toString("base64");
        const from = client.mark();
        client.send(`AUTHENTICATE ${payload}`);
        const result = await client.waitFor(
          (l) => l.command === "903" || l.command === "904" || l.command === "902",
          "SASL result",
          { from },
        );
        return result.command === "903";
      } finally {
        await client.close();
      }
    },
    whois,
    async whoisAccount(nick) {
      const lines = await whois(nick);
      const line = lines.find(
        (l) => l.command === "330" && l.params[1]?.toLowerCase() === nick.toLowerCase(),
      );
      return line?.params[2] ?? null;
    },
  };
}
