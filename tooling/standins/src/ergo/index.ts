import { randomBytes } from "node:crypto";
import http from "node:http";
import { AccountStore } from "./accounts";
import { generateSelfSignedCert } from "./cert";
import { createApiHandler } from "./http-api";
import { ErgoIrcServer, type OperCredential, type RegisterExistsCode } from "./server";

export type { OperCredential, RegisterExistsCode } from "./server";
export { saslPlainPayload } from "./sasl";

/**
 * A wire-level stand-in for ergo (the irc.now IRC network): IRC on 127.0.0.1 (plain, and
 * TLS with a runtime self-signed certificate when asked) plus ergo's HTTP API, sharing one
 * in-memory account store. Behaviour follows ../shared/facts/ergo.md (ergo v2.11.1 live).
 */

export interface ErgoStandinOptions {
  /** Server name in every server-sourced line (`ergo.test`). */
  serverName?: string;
  /** NETWORK= and the 001 welcome text (`ErgoTest`). */
  networkName?: string;
  /** ergo version shown in 002/004 and /v1/status (`2.11.1`). */
  version?: string;
  /** Oper blocks (all with the `accreg` capability). Default: one oper `admin` with a random password. */
  opers?: OperCredential[];
  /** Bearer tokens for the HTTP API. Default: one random token. */
  apiTokens?: string[];
  /** Code in `FAIL REGISTER <code> …` for an existing account: `USERNAME_EXISTS` (v2.11.1, default) or `ACCOUNT_EXISTS` (current ergo). */
  registerExistsCode?: RegisterExistsCode;
  /** Also listen with TLS (self-signed certificate generated at start). */
  tls?: boolean;
  host?: string;
  /** Fixed ports (default: free ports). */
  ircPort?: number;
  ircsPort?: number;
  apiPort?: number;
  /** bcrypt cost for stored password hashes (ergo's default is 4). */
  bcryptCost?: number;
  motd?: string[];
  /** Debug log sink (default: silent). */
  log?: (message: string) => void;
}

export interface ErgoClientInfo {
  nick: string;
  username: string;
  hostname: string;
  realname: string;
  /** Account the client is logged into, or null. */
  account: string | null;
  oper: string | null;
  channels: string[];
  sessions: number;
  secure: boolean;
}

export interface ErgoStandin {
  ircHost: string;
  ircPort: number;
  /** `irc://127.0.0.1:<port>` */
  ircUrl: string;
  /** With `tls: true`: the TLS port, `ircs://127.0.0.1:<port>` and the PEM certificate to trust. */
  ircsPort: number | null;
  ircsUrl: string | null;
  tlsCert: string | null;
  /** `http://127.0.0.1:<port>` (no trailing slash) */
  apiUrl: string;
  apiToken: string;
  oper: OperCredential;
  serverName: string;
  accountExists(name: string): boolean;
  /** Which account a connected nick is logged into (null when absent or not logged in). */
  whoisAccount(nick: string): string | null;
  clients(): ErgoClientInfo[];
  /** Registers an account directly (SAREGISTER semantics); rejects with ergo's error text. */
  registerAccount(name: string, password: string): Promise<void>;
  /** True when `password` is the account's current password. */
  checkPassword(name: string, password: string): Promise<boolean>;
  /** Disconnects every session of a connected nick (`ERROR :Killed`); false when absent. */
  disconnect(nick: string, reason?: string): boolean;
  /** Drops every connection (channels and logins are lost); accounts stay. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Human-readable lines on how to reach the stand-in (for `npm run dev`). */
  describe(): string[];
}

export async function startErgoStandin(options: ErgoStandinOptions = {}): Promise<ErgoStandin> {
  const host = options.host ?? "127.0.0.1";
  const serverName = options.serverName ?? "ergo.test";
  const opers =
    options.opers && options.opers.length > 0
      ? options.opers
      : [{ name: "admin", password: randomBytes(12).toString("base64url") }];
  const apiTokens =
    options.apiTokens && options.apiTokens.length > 0
      ? options.apiTokens
      : [randomBytes(24).toString("base64url")];
  const accounts = new AccountStore({ bcryptCost: options.bcryptCost ?? 4 });
  const irc = new ErgoIrcServer(
    {
      serverName,
      networkName: options.networkName ?? "ErgoTest",
      version: options.version ?? "2.11.1",
      opers,
      registerExistsCode: options.registerExistsCode ?? "USERNAME_EXISTS",
      guestPrefix: "Guest-",
      motd: options.motd ?? ["This is the irc.now ergo stand-in."],
      log: options.log ?? (() => undefined),
    },
    accounts,
  );

  const api = http.createServer(createApiHandler(irc, apiTokens));
  try {
    const ircPort = await irc.listen(host, options.ircPort ?? 0);
    let ircsPort: number | null = null;
    let tlsCert: string | null = null;
    if (options.tls) {
      const cert = generateSelfSignedCert(serverName);
      tlsCert = cert.cert;
      ircsPort = await irc.listen(host, options.ircsPort ?? 0, cert);
    }
    await new Promise<void>((resolve, reject) => {
      api.once("error", reject);
      api.listen(options.apiPort ?? 0, host, () => {
        api.off("error", reject);
        resolve();
      });
    });
    const apiAddress = api.address();
    if (apiAddress === null || typeof apiAddress === "string")
      throw new Error("unexpected API address");

    let stopped = false;
    const oper = opers[0] as OperCredential;
    const apiUrl = `http://${host}:${apiAddress.port}`;
    return {
      ircHost: host,
      ircPort,
      ircUrl: `irc://${host}:${ircPort}`,
      ircsPort,
      ircsUrl: ircsPort === null ? null : `ircs://${host}:${ircsPort}`,
      tlsCert,
      apiUrl,
      apiToken: apiTokens[0] as string,
      oper: { ...oper },
      serverName,
      accountExists: (name) => accounts.exists(name),
      whoisAccount: (nick) => irc.findUser(nick)?.account?.name ?? null,
      clients: () =>
        [...irc.users.values()].map((u) => ({
          nick: u.nick,
          username: u.username,
          hostname: u.hostname,
          realname: u.realname,
          account: u.account?.name ?? null,
          oper: u.oper,
          channels: [...u.channels].map((c) => c.name),
          sessions: u.sessions.size,
          secure: u.secure,
        })),
      registerAccount: async (name, password) => {
        await accounts.saregister(name, password);
      },
      checkPassword: async (name, password) => {
        try {
          await accounts.authenticate(name, password);
          return true;
        } catch {
          return false;
        }
      },
      disconnect: (nick, reason = "Killed") => {
        const user = irc.findUser(nick);
        if (!user) return false;
        for (const session of [...user.sessions]) irc.quitSession(session, reason);
        return true;
      },
      restart: async () => {
        irc.dropAll();
      },
      describe: () => [
        `ergo stand-in (${serverName}): irc://${host}:${ircPort}` +
          (ircsPort === null ? "" : `  ircs://${host}:${ircsPort} (self-signed)`),
        `  oper: /OPER ${oper.name} ${oper.password}`,
        `  HTTP API: ${apiUrl}  (Authorization: Bearer ${apiTokens[0] ?? ""})`,
      ],
      stop: async () => {
        if (stopped) return;
        stopped = true;
        api.closeAllConnections();
        await Promise.all([
          irc.close(),
          new Promise<void>((resolve) => api.close(() => resolve())),
        ]);
      },
    };
  } catch (err) {
    await irc.close();
    api.close();
    throw err;
  }
}
