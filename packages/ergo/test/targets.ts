import { startErgo } from "@irc-now/peers";
import { startErgoStandin, type RegisterExistsCode } from "@irc-now/standins/ergo";

/**
 * The ergo a contract suite runs against: the stand-in (`npm test`) or the real ergo 2.15.0 of
 * the peers kit (`npm run test:peers`, REAL_PEERS=1). Everything a suite observes goes through
 * this interface, so the same cases hold for both.
 */
export interface ErgoTarget {
  readonly kind: "standin" | "real";
  readonly ircUrl: string;
  readonly ircHost: string;
  readonly ircPort: number;
  readonly oper: { name: string; password: string };
  /** The HTTP API (stand-in only: ergo 2.15 has none). */
  readonly api: { url: string; token: string } | null;
  accountExists(account: string): Promise<boolean>;
  /** True when `password` is the account's current password (a SASL PLAIN login on real ergo). */
  checkPassword(account: string, password: string): Promise<boolean>;
  /** SAREGISTER, arranged outside the adapter under test. */
  registerAccount(account: string, password: string): Promise<void>;
  /** The account a connected nick is logged into (WHOIS 330), or null. */
  whoisAccount(nick: string): Promise<string | null>;
  stop(): Promise<void>;
}

export interface StandinKnobs {
  /** Stand-in only: the code of `FAIL REGISTER` for an existing account. */
  registerExistsCode?: RegisterExistsCode;
}

export async function startStandinTarget(knobs: StandinKnobs = {}): Promise<ErgoTarget> {
  const ergo = await startErgoStandin(knobs);
  return {
    kind: "standin",
    ircUrl: ergo.ircUrl,
    ircHost: ergo.ircHost,
    ircPort: ergo.ircPort,
    oper: ergo.oper,
    api: { url: ergo.apiUrl, token: ergo.apiToken },
    accountExists: async (account) => ergo.accountExists(account),
    checkPassword: (account, password) => ergo.checkPassword(account, password),
    registerAccount: (account, password) => ergo.registerAccount(account, password),
    whoisAccount: async (nick) => ergo.whoisAccount(nick),
    stop: () => ergo.stop(),
  };
}

/** A fresh real ergo (own state dir and port), stopped and removed by stop(). */
export async function startRealTarget(): Promise<ErgoTarget> {
  const ergo = await startErgo();
  return {
    kind: "real",
    ircUrl: ergo.ircUrl,
    ircHost: ergo.host,
    ircPort: ergo.port,
    oper: ergo.oper,
    api: null,
    accountExists: (account) => ergo.accountExists(account),
    checkPassword: (account, password) => ergo.checkPassword(account, password),
    registerAccount: (account, password) => ergo.registerAccount(account, password),
    whoisAccount: (nick) => ergo.whoisAccount(nick),
    stop: () => ergo.stop(),
  };
}
