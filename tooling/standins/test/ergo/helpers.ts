import net from "node:net";
import tls from "node:tls";
import IRC, { type Client, type ClientOptions, type IrcEvent } from "irc-framework";
import type { ErgoStandin } from "../../src/ergo/index";
import { saslPlainPayload } from "../../src/ergo/index";

const WAIT_LIMIT_MS = 10_000;

/**
 * A raw line-level IRC client: every line the server sends is recorded, and `next` /
 * `until` consume them in order, so tests can assert exact bytes and ordering.
 */
export class RawClient {
  readonly lines: string[] = [];
  private cursor = 0;
  private consumedFrom = 0;
  private waiters: Array<() => void> = [];
  ended = false;
  readonly closed: Promise<void>;
  private pending = "";

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.pending += chunk;
      const parts = this.pending.split("\r\n");
      this.pending = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  static async connect(port: number, options: { tlsCa?: string } = {}): Promise<RawClient> {
    const socket =
      options.tlsCa !== undefined
        ? tls.connect({ host: "127.0.0.1", port, ca: options.tlsCa, servername: "ergo.test" })
        : net.connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tlsCa !== undefined ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    return new RawClient(socket);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  send(...lines: string[]): void {
    for (const line of lines) this.socket.write(line + "\r\n");
  }

  /** Consumes lines up to and including the first one matching; returns all consumed lines. */
  async until(
    match: string | RegExp | ((line: string) => boolean),
    what = String(match),
  ): Promise<string[]> {
    const test =
      typeof match === "function"
        ? match
        : typeof match === "string"
          ? (l: string) => l === match
          : (l: string) => match.test(l);
    const deadline = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      while (this.cursor < this.lines.length) {
        const line = this.lines[this.cursor++] as string;
        const consumed = this.lines.slice(this.consumedFrom, this.cursor);
        if (test(line)) {
          this.consumedFrom = this.cursor;
          return consumed;
        }
      }
      if (this.ended)
        throw new Error(
          `connection closed while waiting for ${what}; got:\n${this.lines.slice(this.consumedFrom).join("\n")}`,
        );
      const remaining = deadline - Date.now();
      if (remaining <= 0)
        throw new Error(
          `no line matching ${what}; got:\n${this.lines.slice(this.consumedFrom).join("\n")}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Consumes up to the first matching line and returns it. */
  async next(match: string | RegExp | ((line: string) => boolean), what?: string): Promise<string> {
    const lines = await this.until(match, what);
    return lines[lines.length - 1] as string;
  }

  /** Sends PING and returns every line received before the PONG (the PONG excluded). */
  async sync(token = `sync${Math.random().toString(36).slice(2)}`): Promise<string[]> {
    this.send(`PING ${token}`);
    const lines = await this.until(
      (l) => l.endsWith(` PONG ergo.test ${token}`) || l.endsWith(`PONG ergo.test :${token}`),
    );
    return lines.slice(0, -1);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface RegisterOptions {
  caps?: string[];
  sasl?: { account: string; password: string };
  username?: string;
}

/** What the raw helpers need of an ergo: the stand-in, or the real one of the peers kit. */
export type ErgoEndpoint = Pick<ErgoStandin, "ircPort" | "oper">;

/** Registers a raw client (CAP LS 302, optional caps and SASL PLAIN) and waits for 376. */
export async function rawRegister(
  ergo: ErgoEndpoint,
  nick: string,
  options: RegisterOptions = {},
): Promise<RawClient> {
  const c = await RawClient.connect(ergo.ircPort);
  c.send("CAP LS 302", `NICK ${nick}`, `USER ${options.username ?? "u"} 0 * :${nick}`);
  await c.next((l) => / CAP \* LS :/.test(l));
  const caps = [...(options.caps ?? []), ...(options.sasl ? ["sasl"] : [])];
  if (caps.length > 0) {
    c.send(`CAP REQ :${caps.join(" ")}`);
    await c.next(/ CAP \* ACK /);
  }
  if (options.sasl) {
    c.send("AUTHENTICATE PLAIN");
    await c.next("AUTHENTICATE +");
    c.send(`AUTHENTICATE ${saslPlainPayload(options.sasl.account, options.sasl.password)}`);
    await c.next(/ 90[34] /);
  }
  c.send("CAP END");
  await c.next(/ 376 /);
  await c.sync(); // consume the rest of the welcome burst
  return c;
}

/** Registers a raw client and makes it an IRC operator. */
export async function rawOper(
  ergo: ErgoEndpoint,
  nick: string,
  caps: string[] = [],
): Promise<RawClient> {
  const c = await rawRegister(ergo, nick, { caps });
  c.send(`OPER ${ergo.oper.name} ${ergo.oper.password}`);
  await c.next(`:ergo.test MODE ${nick} +o`);
  return c;
}

/** The trailing text of each NickServ NOTICE among `lines`. */
export function nickServTexts(lines: string[]): string[] {
  return lines
    .filter((l) => l.startsWith(":NickServ!NickServ@localhost NOTICE "))
    .map((l) => l.slice(l.indexOf(" :") + 2));
}

/** Runs one NickServ command on a raw client and returns the lines it produced. */
export async function ns(c: RawClient, command: string): Promise<string[]> {
  c.send(command);
  return c.sync();
}

/** irc-framework client connected to the stand-in; resolves once registered. */
export async function frameworkClient(ergo: ErgoStandin, options: ClientOptions): Promise<Client> {
  const client = new IRC.Client();
  const registered = new Promise<void>((resolve, reject) => {
    client.once("registered", () => resolve());
    client.once("close", () =>
      reject(new Error("irc-framework connection closed before registration")),
    );
  });
  client.connect({
    host: ergo.ircHost,
    port: ergo.ircPort,
    auto_reconnect: false,
    ping_interval: 0,
    ...options,
  });
  await registered;
  return client;
}

export function frameworkWhois(client: Client, nick: string): Promise<IrcEvent> {
  return new Promise((resolve) => client.whois(nick, (event) => resolve(event)));
}

export function frameworkQuit(client: Client): Promise<void> {
  return new Promise((resolve) => {
    client.once("close", () => resolve());
    client.quit("bye");
  });
}
