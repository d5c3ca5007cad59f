import net from "node:net";
import {
  errorText,
  ircLower,
  type Bouncer,
  type DownstreamSession,
  type SojuNetwork,
  type SojuUser,
} from "./bouncer";
import {
  formatIrcMessage,
  IrcParseFailure,
  LineSplitter,
  parseIrcLine,
  type IrcMessage,
} from "./irc";
import {
  AUTHENTICATION_FAILED,
  httpAuthPlain,
  INVALID_CREDENTIALS,
  type AuthResult,
} from "./auth-http";
import { checkPassword, hashPassword, needsRehash } from "./password";
import { handleServiceText } from "./service";
import { newChannelRecord } from "./store";
import { goQuote } from "./words";

/** soju's downstreamRegisterTimeout: the auth request shares the registration deadline. */
const REGISTER_TIMEOUT_MS = 30_000;

/** eventDownstreamConnected: attach the session, clear auto-away, rewrite the user row (facts §3). */
export async function downstreamConnected(
  bouncer: Bouncer,
  session: DownstreamSession,
): Promise<void> {
  await bouncer.queue.run(async () => {
    const user = session.user;
    user.downstreams.add(session);
    user.updateAway();
    await user.bumpDownstreamInteractionTime();
  });
}

/** eventDownstreamDisconnected: detach the session, auto-away when it was the last, rewrite the row. */
export async function downstreamDisconnected(
  bouncer: Bouncer,
  session: DownstreamSession,
): Promise<void> {
  await bouncer.queue.run(async () => {
    const user = session.user;
    if (!user.downstreams.delete(session)) return;
    user.updateAway();
    await user.bumpDownstreamInteractionTime();
  });
}

/** A downstream session without a socket, for tests and tools. */
export class SimulatedDownstream implements DownstreamSession {
  readonly lines: string[] = [];
  private closed = false;

  constructor(
    private readonly bouncer: Bouncer,
    readonly user: SojuUser,
    public network: SojuNetwork | undefined,
    readonly nick: string,
  ) {}

  sendLine(line: string): void {
    this.lines.push(line);
  }

  close(): void {
    void this.disconnect();
  }

  async disconnect(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await downstreamDisconnected(this.bouncer, this);
  }
}

/**
 * Splits a downstream username `<user>[/<network>][@<client>]` (either suffix order) as soju
 * 0.10.1's unmarshalUsername does: the user ends at the first `/` or `@`; the last suffix is
 * the network (`/`) or the client (`@`), and a middle one the other.
 */
export function parseDownstreamUsername(raw: string): {
  username: string;
  network: string;
  client: string;
} {
  const first = raw.search(/[/@]/);
  if (first === -1) return { username: raw, network: "", client: "" };
  const last = Math.max(raw.lastIndexOf("/"), raw.lastIndexOf("@"));
  const parts = { username: raw.slice(0, first), network: "", client: "" };
  if (raw[last] === "@") parts.client = raw.slice(last + 1);
  else parts.network = raw.slice(last + 1);
  if (first < last) {
    if (raw[first] === "@") parts.client = raw.slice(first + 1, last);
    else parts.network = raw.slice(first + 1, last);
  }
  return parts;
}

/**
 * A minimal downstream IRC listener: PASS/NICK/USER or SASL PLAIN login as a soju user, then the
 * BouncerServ service over `PRIVMSG BouncerServ`, saved channels on JOIN/PART, PING. It does not
 * relay messages between upstream and downstream.
 */
export class DownstreamServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly bouncer: Bouncer,
    private readonly server: net.Server,
  ) {}

  static async listen(bouncer: Bouncer, host: string, port: number): Promise<DownstreamServer> {
    const server = net.createServer();
    const downstream = new DownstreamServer(bouncer, server);
    server.on("connection", (socket) => downstream.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return downstream;
  }

  get address(): { host: string; port: number } {
    const address = this.server.address();
    if (!address || typeof address === "string")
      throw new Error("downstream listener has no TCP address");
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const conn = new DownstreamConn(this.bouncer, socket);
    socket.on("close", () => {
      this.sockets.delete(socket);
      conn.onClose();
    });
  }
}

class DownstreamConn implements DownstreamSession {
  nick = "*";
  network: SojuNetwork | undefined;
  private registeredUser: SojuUser | undefined;
  private userParam: string | undefined;
  private pass = "";
  private capNegotiating = false;
  private readonly caps = new Set<string>();
  private saslUser: string | undefined;
  private saslInProgress = false;
  private closed = false;
  private readonly prefix: string;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly bouncer: Bouncer,
    private readonly socket: net.Socket,
  ) {
    this.prefix = bouncer.config.hostname;
    const splitter = new LineSplitter();
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        this.queue = this.queue
          .then(() => this.handleLine(line))
          .catch((error: unknown) => {
            this.bouncer.config.log(`downstream: ${errorText(error)}`);
            this.close();
          });
      }
    });
  }

  get user(): SojuUser {
    if (!this.registeredUser) throw new Error("downstream connection is not registered");
    return this.registeredUser;
  }

  sendLine(line: string): void {
    if (!this.closed) this.socket.write(`${line}\r\n`);
  }

  private send(message: Pick<IrcMessage, "prefix" | "command" | "params">): void {
    this.sendLine(formatIrcMessage(message));
  }

  private numeric(code: string, ...params: string[]): void {
    this.send({ prefix: this.prefix, command: code, params: [this.nick, ...params] });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }

  onClose(): void {
    this.closed = true;
    if (this.registeredUser) void downstreamDisconnected(this.bouncer, this);
  }

  private async handleLine(line: string): Promise<void> {
    if (this.closed) return;
    let message: IrcMessage;
    try {
      message = parseIrcLine(line);
    } catch (error) {
      if (error instanceof IrcParseFailure) return;
      throw error;
    }
    if (this.registeredUser) await this.handleRegistered(message);
    else await this.handleRegistration(message);
  }

  private async handleRegistration(message: IrcMessage): Promise<void> {
    const p = message.params;
    switch (message.command) {
      case "CAP": {
        // soju 0.10.1 (seen): the target stays `*` until registration, even after NICK
        const sub = (p[0] ?? "").toUpperCase();
        if (sub === "LS") {
          this.capNegotiating = true;
          this.send({
            prefix: this.prefix,
            command: "CAP",
            params: ["*", "LS", p[1] === "302" ? "sasl=PLAIN" : "sasl"],
          });
        } else if (sub === "REQ") {
          this.capNegotiating = true;
          const caps = (p[1] ?? "").split(" ").filter(Boolean);
          const ok = caps.every((c) => c === "sasl");
          if (ok) for (const c of caps) this.caps.add(c);
          this.send({
            prefix: this.prefix,
            command: "CAP",
            params: ["*", ok ? "ACK" : "NAK", p[1] ?? ""],
          });
        } else if (sub === "LIST") {
          this.send({
            prefix: this.prefix,
            command: "CAP",
            params: ["*", "LIST", [...this.caps].join(" ")],
          });
        } else if (sub === "END") {
          this.capNegotiating = false;
          await this.tryRegister();
        }
        return;
      }
      case "AUTHENTICATE":
        await this.handleAuthenticate(p[0] ?? "");
        return;
      case "PASS":
        this.pass = p[0] ?? "";
        return;
      case "NICK":
        this.nick = p[0] ?? "*";
        await this.tryRegister();
        return;
      case "USER":
        this.userParam = p[0];
        await this.tryRegister();
        return;
      case "PING":
        this.send({ prefix: this.prefix, command: "PONG", params: [this.prefix, p[0] ?? ""] });
        return;
      case "QUIT":
        this.close();
        return;
      default:
        // soju 0.10.1 (seen): `421 * FOO :Unknown command` before registration
        this.send({
          prefix: this.prefix,
          command: "421",
          params: ["*", message.command, "Unknown command"],
        });
    }
  }

  /** SASL PLAIN, with soju 0.10.1's replies (seen) for the other cases. */
  private async handleAuthenticate(value: string): Promise<void> {
    const reply = (code: string, text: string) =>
      this.send({ prefix: this.prefix, command: code, params: ["*", text] });
    if (!this.caps.has("sasl")) {
      reply("904", 'AUTHENTICATE requires the "sasl" capability to be enabled');
      return;
    }
    if (value === "*") {
      this.saslInProgress = false;
      reply("906", "SASL authentication aborted");
      return;
    }
    if (!this.saslInProgress) {
      if (value.toUpperCase() !== "PLAIN") {
        reply("904", "Unsupported SASL mechanism");
        return;
      }
      this.saslInProgress = true;
      this.send({ command: "AUTHENTICATE", params: ["+"] });
      return;
    }
    this.saslInProgress = false;
    const parts = Buffer.from(value, "base64").toString("utf8").split("\0");
    const [, authcid = "", password = ""] = parts;
    const { username } = parseDownstreamUsername(authcid);
    const result = await this.authPlain(username, password);
    if (result.ok) {
      this.saslUser = authcid;
      this.send({
        prefix: this.prefix,
        command: "903",
        params: ["*", "SASL authentication successful"],
      });
    } else {
      // soju 0.10.1 wraps the error with the username before authErrorReason sees it, so a SASL
      // client never gets "Invalid credentials", only this
      this.bouncer.config.log(
        `SASL PLAIN authentication error for nick ${goQuote(this.nick)}: ${result.internal} (username ${goQuote(username)})`,
      );
      this.send({
        prefix: this.prefix,
        command: "904",
        params: ["*", AUTHENTICATION_FAILED],
      });
    }
  }

  /** The configured PlainAuthenticator: `auth http` when set, else soju's own DB passwords. */
  private authPlain(username: string, password: string): Promise<AuthResult> {
    const url = this.bouncer.config.authHttp;
    if (url === undefined) return this.internalAuth(username, password);
    const { remoteAddress, remotePort } = this.socket;
    const remote =
      remoteAddress !== undefined && remotePort !== undefined
        ? { address: remoteAddress, port: remotePort }
        : undefined;
    return httpAuthPlain(url, username, password, remote, REGISTER_TIMEOUT_MS);
  }

  /** auth/internal.go: the password is checked against the DB row; a low cost is re-hashed and stored. */
  private async internalAuth(username: string, password: string): Promise<AuthResult> {
    const invalid = (internal: string): AuthResult => ({
      ok: false,
      external: INVALID_CREDENTIALS,
      internal,
    });
    const record = await this.bouncer.store.getUser(username);
    if (!record) return invalid("user not found");
    if (record.password === "" || !(await checkPassword(record.password, password)))
      return invalid("password mismatch");
    if (needsRehash(record.password)) {
      record.password = await hashPassword(password);
      await this.bouncer.store.storeUser(record);
    }
    return { ok: true };
  }

  private async tryRegister(): Promise<void> {
    if (
      this.capNegotiating ||
      this.nick === "*" ||
      this.userParam === undefined ||
      this.registeredUser
    )
      return;
    const login = parseDownstreamUsername(this.saslUser ?? this.userParam);
    // soju 0.10.1 (seen): no login at all → "Authentication required" (a standard reply when the
    // client enabled sasl); a wrong password or an unknown user → `464 * :Invalid credentials`
    if (this.saslUser === undefined && this.pass === "") {
      if (this.caps.has("sasl"))
        this.send({
          prefix: this.prefix,
          command: "FAIL",
          params: ["*", "ACCOUNT_REQUIRED", "Authentication required"],
        });
      else
        this.send({
          prefix: this.prefix,
          command: "464",
          params: ["*", "Authentication required"],
        });
      this.close();
      return;
    }
    if (this.saslUser === undefined) {
      const result = await this.authPlain(login.username, this.pass);
      this.pass = "";
      if (!result.ok) {
        this.bouncer.config.log(
          `PASS authentication error for user ${goQuote(this.userParam)}: ${result.internal}`,
        );
        this.send({ prefix: this.prefix, command: "464", params: ["*", result.external] });
        this.close();
        return;
      }
    }
    const user = this.bouncer.getUser(login.username);
    if (!user) {
      // server.go getOrCreateUser (enable-user-on-auth is off): an authenticated user soju has
      // not loaded gets this ERROR, whether its DB row is missing or only not loaded yet
      const inDb = (await this.bouncer.store.getUser(login.username)) !== undefined;
      this.bouncer.config.log(
        `failed to get/create user: ${
          inDb
            ? `user ${goQuote(login.username)} exists in the DB but hasn't been loaded by the bouncer -- a restart may help`
            : `cannot find user ${goQuote(login.username)} in the DB`
        }`,
      );
      this.send({ command: "ERROR", params: ["Internal server error"] });
      this.close();
      return;
    }
    if (!user.record.enabled) {
      this.send({ command: "ERROR", params: ["This bouncer account is disabled"] });
      this.close();
      return;
    }
    this.network = login.network ? user.getNetwork(login.network) : undefined;
    this.registeredUser = user;
    // soju 0.10.1's burst (seen): no 003; 005 addressed to `*`; 900 before 422 after SASL
    const host = this.prefix;
    this.numeric("001", `Welcome to soju, ${this.nick}`);
    this.numeric("002", `Your host is ${host}`);
    this.numeric("004", host, "soju", "aiwroO", "OovaimnqpsrtklbeI");
    this.send({
      prefix: this.prefix,
      command: "005",
      params: [
        "*",
        "soju.im/SAFERATE",
        "BOT=B",
        "CASEMAPPING=ascii",
        "WHOX",
        `CHANTYPES=${this.network?.conn?.chantypes ?? ""}`,
        "LINELEN=4096",
        "are supported",
      ],
    });
    if (this.saslUser !== undefined) {
      const account = login.username;
      this.numeric(
        "900",
        `${this.nick}!${account}@${this.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1"}`,
        account,
        `You are logged in as ${account}`,
      );
    }
    this.numeric("422", "No MOTD");
    await downstreamConnected(this.bouncer, this);
  }

  private async handleRegistered(message: IrcMessage): Promise<void> {
    const p = message.params;
    switch (message.command) {
      case "PING":
        this.send({ prefix: this.prefix, command: "PONG", params: [this.prefix, p[0] ?? ""] });
        return;
      case "QUIT":
        this.close();
        return;
      case "PRIVMSG":
        if (ircLower(p[0] ?? "") === "bouncerserv") await this.runService(p[1] ?? "");
        return;
      case "JOIN":
        await this.join(p[0] ?? "", p[1] ?? "");
        return;
      case "PART":
        await this.part(p[0] ?? "");
        return;
    }
  }

  private async runService(text: string): Promise<void> {
    const user = this.user;
    const reply = (t: string) =>
      this.send({
        prefix: "BouncerServ!BouncerServ@BouncerServ",
        command: "PRIVMSG",
        params: [this.nick, t],
      });
    await this.bouncer.queue.run(async () => {
      try {
        await handleServiceText(
          {
            bouncer: this.bouncer,
            user,
            network: this.network,
            nick: this.nick,
            admin: user.record.admin,
            print: reply,
          },
          text,
        );
      } catch (error) {
        reply(`error: ${errorText(error)}`);
      }
    });
  }

  /** soju saves a channel (with its key) as soon as a downstream joins it (facts §7.6). */
  private async join(names: string, keys: string): Promise<void> {
    const net = this.network;
    if (!net) return;
    const keyList = keys.split(",");
    await this.bouncer.queue.run(async () => {
      for (const [i, name] of names.split(",").entries()) {
        if (!name) continue;
        const key = keyList[i] ?? "";
        let channel = net.channels.get(ircLower(name));
        if (!channel) {
          channel = newChannelRecord(name);
          net.channels.set(ircLower(name), channel);
        }
        if (key) channel.key = key;
        channel.detached = false;
        await this.bouncer.store.storeChannel(net.record.id, channel);
        net.conn?.send({ command: "JOIN", params: key ? [name, key] : [name] });
      }
    });
  }

  private async part(names: string): Promise<void> {
    const net = this.network;
    if (!net) return;
    await this.bouncer.queue.run(async () => {
      for (const name of names.split(",")) {
        const channel = net.channels.get(ircLower(name));
        if (!channel) continue;
        await this.bouncer.store.deleteChannel(channel.id);
        net.channels.delete(ircLower(name));
        net.conn?.send({ command: "PART", params: [name] });
      }
    });
  }
}
