import { createHash, randomBytes, randomInt } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { Account, AccountStore } from "./accounts";
import { capLsLines, isKnownCap, NOPE_CAP } from "./caps";
import { handleNickServ, isNickServTarget, type NickServHost } from "./nickserv";
import { casefold, isServiceName, isValidChannel, isValidName, NICKLEN } from "./names";
import { Channel, ResponseBuffer, Session, User, sendTo, type OutgoingLine } from "./model";
import { LineBuffer, parseLine, serializeLine, type IrcMessage } from "./protocol";
import { handleAuthenticate, type SaslHost } from "./sasl";

export interface OperCredential {
  name: string;
  password: string;
}

export type RegisterExistsCode = "USERNAME_EXISTS" | "ACCOUNT_EXISTS";

export interface IrcServerConfig {
  serverName: string;
  networkName: string;
  /** Shown as `ergo-<version>` in 002/004 and by `/v1/status`. */
  version: string;
  opers: OperCredential[];
  registerExistsCode: RegisterExistsCode;
  guestPrefix: string;
  motd: string[];
  log: (message: string) => void;
}

/** Commands a connection may send before registration has finished. */
const PRE_REGISTRATION = new Set([
  "AWAY",
  "CAP",
  "NICK",
  "USER",
  "PASS",
  "PING",
  "PONG",
  "QUIT",
  "AUTHENTICATE",
]);

// ergo's cloak alphabet (seen in 2.15.0 cloaks: digits 2-9, never l, o, 0 or 1)
const BASE32 = "abcdefghijkmnpqrstuvwxyz23456789";

function base32(bytes: Buffer, length: number): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** ergo counts loopback connections as secure (`secure-nets`): user mode +Z, WHOIS 671. */
function isLoopback(ip: string): boolean {
  return ip === "::1" || /^127\./.test(ip);
}

/**
 * The away message after `AWAY [param]`. `*` (draft/pre-away) leaves the current state as it is,
 * as ergo 2.15.0 does with one connection: 305 and not away when not away, 306 and the same
 * message when away. None or empty means not away.
 */
function awayMessage(param: string | undefined, current: string | null): string | null {
  if (param === "*") return current;
  if (param === undefined || param === "") return null;
  return param.slice(0, 390);
}

/** ergo 2.15's standard reply for a nick reserved by an account (sent with or without the cap). */
function nickReservedFail(serverName: string, nick: string): OutgoingLine {
  return {
    source: serverName,
    command: "FAIL",
    params: ["NICK", "NICKNAME_RESERVED", nick, "Nickname is reserved by a different account"],
  };
}

function ircTime(date: Date): string {
  return date.toUTCString().replace("GMT", "UTC");
}

function unixSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

export class ErgoIrcServer implements NickServHost, SaslHost {
  readonly sessions = new Set<Session>();
  readonly users = new Map<string, User>();
  readonly channels = new Map<string, Channel>();
  readonly createdAt = new Date();
  maxUsers = 0;
  private readonly listeners: net.Server[] = [];
  private nextId = 1;
  private readonly cloakSecret = randomBytes(16);
  private readonly unsubscribe: () => void;

  constructor(
    readonly config: IrcServerConfig,
    readonly accounts: AccountStore,
  ) {
    // Strict nick enforcement: whoever sits on a nick that just became an account it is not
    // logged into is renamed to a guest nick at once (seen live with SAREGISTER; ergo runs the
    // same code for HTTP API registrations, which was not recorded live).
    this.unsubscribe = accounts.onRegister((account) => {
      const holder = this.users.get(account.casefolded);
      if (holder && holder.account?.casefolded !== account.casefolded) this.randomlyRename(holder);
    });
  }

  get serverName(): string {
    return this.config.serverName;
  }

  // ---------------------------------------------------------------- listening

  async listen(
    host: string,
    port: number,
    tlsOptions?: { cert: string; key: string },
  ): Promise<number> {
    const onConnection = (socket: net.Socket) => this.accept(socket, tlsOptions !== undefined);
    const server = tlsOptions
      ? tls.createServer({ cert: tlsOptions.cert, key: tlsOptions.key }, onConnection)
      : net.createServer(onConnection);
    server.on("error", (err) => this.config.log(`listener error: ${err.message}`));
    if (tlsOptions) server.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.listeners.push(server);
    const address = server.address();
    if (address === null || typeof address === "string")
      throw new Error("unexpected listener address");
    return address.port;
  }

  /** Drops every connection (ERROR + close); accounts are kept. */
  dropAll(reason = "Server restarting"): void {
    for (const session of [...this.sessions]) {
      session.writeRaw(serializeLine(null, "ERROR", [reason]));
      this.destroySession(session, reason, false);
    }
    this.channels.clear();
    this.users.clear();
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.dropAll("Server shutting down");
    await Promise.all(
      this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    this.listeners.length = 0;
  }

  private cloak(ip: string): string {
    const digest = createHash("sha256").update(this.cloakSecret).update(ip).digest();
    return `${base32(digest, 13)}.irc`;
  }

  private accept(socket: net.Socket, secure: boolean): void {
    const ip = (socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    const session = new Session(
      this.nextId++,
      socket,
      secure || isLoopback(ip),
      ip,
      this.cloak(ip),
    );
    this.sessions.add(session);
    socket.setEncoding("utf8");
    socket.setNoDelay(true);
    const lines = new LineBuffer();
    socket.on("data", (chunk: string) => {
      for (const line of lines.push(chunk)) {
        session.queue = session.queue.then(() => this.handleLine(session, line));
      }
      if (lines.size > 16384) this.destroySession(session, "Input line too long", true);
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      if (!session.closed) this.destroySession(session, "Connection closed", true);
    });
  }

  // ---------------------------------------------------------------- dispatch

  private async handleLine(session: Session, raw: string): Promise<void> {
    if (session.closed) return;
    const msg = parseLine(raw);
    if (!msg) return;
    const rb = new ResponseBuffer(session, this.serverName, msg.tags.get("label") ?? null);
    try {
      await this.dispatch(session, msg, rb);
    } catch (err) {
      this.config.log(
        `error handling ${msg.command}: ${err instanceof Error ? err.stack : String(err)}`,
      );
    }
    if (!session.closed) rb.flush();
  }

  private async dispatch(session: Session, msg: IrcMessage, rb: ResponseBuffer): Promise<void> {
    const user = session.user;
    const command = msg.command;
    if (!user && !PRE_REGISTRATION.has(command)) {
      rb.numeric("451", "You need to register before you can use that command");
      return;
    }
    const p = msg.params;
    switch (command) {
      case "CAP":
        return this.handleCap(session, p, rb);
      case "NICK":
        return this.handleNick(session, p, rb);
      case "USER":
        return this.handleUser(session, p, rb);
      case "PASS":
      case "PONG":
        return;
      case "PING":
        if (p.length < 1) return rb.numeric("461", "PING", "Not enough parameters");
        rb.add({ source: this.serverName, command: "PONG", params: [this.serverName, p[0] ?? ""] });
        return;
      case "QUIT":
        rb.flush();
        this.quitSession(session, p[0] !== undefined ? `Quit: ${p[0]}` : "Quit");
        return;
      case "AUTHENTICATE":
        await handleAuthenticate(this, session, p, rb);
        return;
      case "AWAY":
        // ergo 2.15 takes AWAY before registration too (draft/pre-away), with or without the cap
        if (!user) {
          session.preAway = awayMessage(p[0], session.preAway);
          rb.numeric(
            session.preAway ? "306" : "305",
            session.preAway
              ? "You have been marked as being away"
              : "You are no longer marked as being away",
          );
          return;
        }
        break;
    }
    if (!user) return;
    switch (command) {
      case "OPER":
        return this.handleOper(session, user, p, rb);
      case "PRIVMSG":
      case "NOTICE":
      case "TAGMSG":
        return await this.handleMessage(session, user, msg, rb);
      case "NS":
      case "NICKSERV":
        await handleNickServ(this, session, p.join(" "), rb);
        return;
      case "WHOIS":
        return this.handleWhois(user, p, rb);
      case "JOIN":
        return this.handleJoin(session, user, p, rb);
      case "PART":
        return this.handlePart(user, p, rb);
      case "NAMES":
        for (const name of (p[0] ?? "").split(",").filter(Boolean))
          this.sendNames(session, rb, name);
        return;
      case "TOPIC":
        return this.handleTopic(user, p, rb);
      case "MODE":
        return this.handleMode(user, p, rb);
      case "WHO":
        return this.handleWho(session, p, rb);
      case "AWAY":
        return this.handleAway(user, p, rb);
      case "ISON":
        rb.numeric(
          "303",
          p
            .flatMap((s) => s.split(" "))
            .filter((n) => n && this.users.has(casefold(n)))
            .map((n) => this.users.get(casefold(n))?.nick ?? n)
            .join(" "),
        );
        return;
      case "USERHOST": {
        const replies = p
          .slice(0, 10)
          .map((n) => this.users.get(casefold(n)))
          .filter((u): u is User => u !== undefined)
          .map(
            (u) => `${u.nick}${u.oper ? "*" : ""}=${u.away ? "-" : "+"}${u.username}@${u.hostname}`,
          );
        rb.numeric("302", replies.join(" "));
        return;
      }
      case "LIST":
        rb.numeric("321", "Channel", "Users  Name");
        for (const channel of this.channels.values())
          rb.numeric("322", channel.name, String(channel.members.size), channel.topic);
        rb.numeric("323", "End of LIST");
        return;
      case "LUSERS":
        return this.sendLusers(rb);
      case "MOTD":
        return this.sendMotd(rb);
      case "VERSION":
        rb.numeric("351", `ergo-${this.config.version}`, this.serverName);
        return;
      case "SETNAME":
        return this.handleSetname(user, p, rb);
      case "USER":
        rb.numeric("462", "You may not reregister");
        return;
      default:
        rb.numeric("421", command, "Unknown command");
    }
  }

  // ---------------------------------------------------------------- helpers

  send(session: Session, line: OutgoingLine): void {
    sendTo(session, line);
  }

  sendToUser(user: User, line: OutgoingLine, except?: Session): void {
    for (const s of user.sessions) if (s !== except) sendTo(s, line);
  }

  /** Users sharing at least one channel with `user` (excluding `user`). */
  peersOf(user: User): Set<User> {
    const peers = new Set<User>();
    for (const channel of user.channels)
      for (const member of channel.members.keys()) if (member !== user) peers.add(member);
    return peers;
  }

  findUser(nick: string): User | undefined {
    return this.users.get(casefold(nick));
  }

  isNickInUse(nick: string): boolean {
    return this.users.has(casefold(nick));
  }

  // ---------------------------------------------------------------- registration

  private handleCap(session: Session, p: string[], rb: ResponseBuffer): void {
    const sub = (p[0] ?? "").toUpperCase();
    const nick = session.nick;
    const capLine = (subcommand: string, ...rest: string[]) =>
      rb.add({ source: this.serverName, command: "CAP", params: [nick, subcommand, ...rest] });
    switch (sub) {
      case "LS": {
        if (!session.user) session.capNegotiating = true;
        const version = Number.parseInt(p[1] ?? "", 10);
        if (Number.isFinite(version) && version > session.capVersion) session.capVersion = version;
        if (session.capVersion >= 302) session.caps.add("cap-notify");
        const lines = capLsLines(session.capVersion);
        lines.forEach((line, index) => {
          if (index < lines.length - 1) capLine("LS", "*", line);
          else capLine("LS", line);
        });
        return;
      }
      case "LIST":
        capLine("LIST", [...session.caps].join(" "));
        return;
      case "REQ": {
        if (!session.user) session.capNegotiating = true;
        const requested = (p[1] ?? "").split(" ").filter(Boolean);
        const ok =
          requested.length > 0 &&
          requested.every((token) => {
            const name = token.startsWith("-") ? token.slice(1) : token;
            return isKnownCap(name) && name !== NOPE_CAP;
          });
        if (!ok) {
          capLine("NAK", p[1] ?? "");
          return;
        }
        for (const token of requested) {
          if (token.startsWith("-")) session.caps.delete(token.slice(1));
          else session.caps.add(token);
        }
        capLine("ACK", requested.join(" "));
        return;
      }
      case "END":
        if (!session.user) {
          session.capNegotiating = false;
          this.tryRegister(session, rb);
        }
        return;
      default:
        rb.numeric("410", p[0] ?? "", "Invalid CAP subcommand");
    }
  }

  private handleNick(session: Session, p: string[], rb: ResponseBuffer): void {
    const nick = p[0];
    if (nick === undefined || nick === "") {
      rb.numeric("431", "No nickname given");
      return;
    }
    if (!isValidName(nick) || nick.length > NICKLEN || nick === "*" || isServiceName(nick)) {
      rb.numeric("432", nick, "Erroneous nickname");
      return;
    }
    const user = session.user;
    if (!user) {
      session.preNick = nick;
      this.tryRegister(session, rb);
      return;
    }
    this.changeNickRequested(user, nick, rb);
  }

  // Seen on ergo 2.15.0: a logged-in client renaming away from its account gets
  // `400 <nick> NICK :You must use your account name as your nickname`; a registered client
  // taking a nick reserved by an account gets only `FAIL NICK NICKNAME_RESERVED` (no 433).
  private changeNickRequested(user: User, nick: string, rb: ResponseBuffer): void {
    const cf = casefold(nick);
    if (nick === user.nick) return;
    if (user.account && cf !== user.account.casefolded) {
      rb.numeric("400", "NICK", "You must use your account name as your nickname");
      return;
    }
    const holder = this.users.get(cf);
    if (holder && holder !== user) {
      rb.numeric("433", nick, "Nickname is already in use");
      return;
    }
    const reserved = this.accounts.get(nick);
    if (reserved && reserved.casefolded !== user.account?.casefolded) {
      rb.add(nickReservedFail(this.serverName, nick));
      return;
    }
    this.applyNickChange(user, nick);
  }

  /** Renames a user and tells its sessions and channel peers (`:old!u@h NICK new`). */
  applyNickChange(user: User, nick: string): void {
    const oldMask = user.mask;
    this.users.delete(casefold(user.nick));
    user.nick = nick;
    this.users.set(casefold(nick), user);
    const line: OutgoingLine = { source: oldMask, command: "NICK", params: [nick], from: user };
    this.sendToUser(user, line);
    for (const peer of this.peersOf(user)) this.sendToUser(peer, line);
  }

  /** ergo's RandomlyRename: strict nick enforcement moves the holder to `Guest-<random>`. */
  randomlyRename(user: User): void {
    let nick: string;
    do {
      nick =
        this.config.guestPrefix +
        Array.from({ length: 13 }, () => BASE32[randomInt(BASE32.length)]).join("");
    } while (this.users.has(casefold(nick)));
    this.applyNickChange(user, nick);
  }

  private handleUser(session: Session, p: string[], rb: ResponseBuffer): void {
    if (session.user) {
      rb.numeric("462", "You may not reregister");
      return;
    }
    if (p.length < 4) {
      rb.numeric("461", "USER", "Not enough parameters");
      return;
    }
    const username = (p[0] ?? "").replace(/[^A-Za-z0-9_.-]/g, "").slice(0, 20) || "u";
    session.userParams = { username, realname: p[3] ?? "" };
    this.tryRegister(session, rb);
  }

  private tryRegister(session: Session, rb: ResponseBuffer): void {
    if (
      session.user ||
      session.closed ||
      !session.preNick ||
      !session.userParams ||
      session.capNegotiating
    )
      return;
    const account = session.preAccount;
    // force-nick-equals-account: a client logged in with SASL gets its account name as nick
    const nick = account ? account.name : session.preNick;
    const cf = casefold(nick);
    const holder = this.users.get(cf);
    if (holder) {
      if (account && holder.account?.casefolded === account.casefolded) {
        this.attachSession(session, holder, rb);
        return;
      }
      if (account && cf === account.casefolded) {
        this.randomlyRename(holder);
      } else {
        rb.numeric("433", nick, "Nickname is already in use");
        session.preNick = null;
        return;
      }
    }
    const reserved = this.accounts.get(nick);
    if (reserved && reserved.casefolded !== account?.casefolded) {
      // before registration ergo 2.15 sends both the numeric and the standard reply
      rb.numeric("433", nick, "Nickname is reserved by a different account");
      rb.add(nickReservedFail(this.serverName, nick));
      session.preNick = null;
      return;
    }
    // ergo's default `coerce-ident: "~u"`: every client's username is `~u`, whatever USER said
    const user = new User(this.nextId++, nick, "~u", session.hostname, session.userParams.realname);
    if (session.secure) user.modes.add("Z");
    user.away = session.preAway;
    user.account = account;
    user.sessions.add(session);
    session.user = user;
    this.users.set(cf, user);
    this.maxUsers = Math.max(this.maxUsers, this.users.size);
    this.sendWelcome(rb);
    this.config.log(`registered ${user.mask}${account ? ` (account ${account.name})` : ""}`);
  }

  /** Multiclient: a second SASL connection for the same account joins the existing user. */
  private attachSession(session: Session, user: User, rb: ResponseBuffer): void {
    user.sessions.add(session);
    session.user = user;
    this.sendWelcome(rb);
    for (const channel of user.channels) {
      rb.add(this.joinLine(session, user, channel));
      this.sendTopic(rb, channel, false);
      this.sendNames(session, rb, channel.name);
    }
  }

  private sendWelcome(rb: ResponseBuffer): void {
    const { serverName, networkName, version } = this.config;
    const nick = rb.session.nick;
    rb.numeric("001", `Welcome to the ${networkName} IRC Network ${nick}`);
    rb.numeric("002", `Your host is ${serverName}, running version ergo-${version}`);
    rb.numeric("003", `This server was created ${ircTime(this.createdAt)}`);
    rb.numeric(
      "004",
      serverName,
      `ergo-${version}`,
      "BERTZios",
      "CEIMRUabefhiklmnoqstuv",
      "Iabefhkloqv",
    );
    rb.numeric(
      "005",
      "AWAYLEN=390",
      "BOT=B",
      "CASEMAPPING=ascii",
      "CHANLIMIT=#:100",
      "CHANMODES=Ibe,k,fl,CEMRUimnstu",
      "CHANNELLEN=64",
      "CHANTYPES=#",
      "ELIST=U",
      "EXCEPTS",
      "EXTBAN=,m",
      "FORWARD=f",
      "INVEX",
      "KICKLEN=390",
      "are supported by this server",
    );
    rb.numeric(
      "005",
      "MAXLIST=beI:60",
      "MAXTARGETS=4",
      "MODES",
      `NETWORK=${networkName}`,
      `NICKLEN=${NICKLEN}`,
      "PREFIX=(qaohv)~&@%+",
      "STATUSMSG=~&@%+",
      "TARGMAX=NAMES:1,LIST:1,KICK:,WHOIS:1,USERHOST:10,PRIVMSG:4,TAGMSG:4,NOTICE:4",
      "TOPICLEN=390",
      "UTF8ONLY",
      "WHOX",
      "are supported by this server",
    );
    this.sendLusers(rb);
    this.sendMotd(rb);
    const user = rb.session.user;
    // ergo 2.15 ends the burst with RPL_UMODEIS (`221 <nick> +Zi`), not a MODE line
    if (user) rb.numeric("221", user.modeString);
  }

  private sendLusers(rb: ResponseBuffer): void {
    const users = [...this.users.values()];
    const invisible = users.filter((u) => u.modes.has("i")).length;
    const opers = users.filter((u) => u.oper).length;
    const unknown = [...this.sessions].filter((s) => !s.user).length;
    rb.numeric(
      "251",
      `There are ${users.length - invisible} users and ${invisible} invisible on 1 server(s)`,
    );
    rb.numeric("252", String(opers), "IRC Operators online");
    rb.numeric("253", String(unknown), "unregistered connections");
    rb.numeric("254", String(this.channels.size), "channels formed");
    rb.numeric("255", `I have ${users.length} clients and 0 servers`);
    rb.numeric(
      "265",
      String(users.length),
      String(this.maxUsers),
      `Current local users ${users.length}, max ${this.maxUsers}`,
    );
    rb.numeric(
      "266",
      String(users.length),
      String(this.maxUsers),
      `Current global users ${users.length}, max ${this.maxUsers}`,
    );
  }

  private sendMotd(rb: ResponseBuffer): void {
    rb.numeric("375", `- ${this.serverName} Message of the day - `);
    for (const line of this.config.motd) rb.numeric("372", `- ${line}`);
    rb.numeric("376", "End of MOTD command");
  }

  // ---------------------------------------------------------------- quitting

  /** Ends one session the way ergo does: QUIT echo to the client, `ERROR :<reason>`, close. */
  quitSession(session: Session, reason: string): void {
    const user = session.user;
    // ergo 2.15 puts a colon only where IRC needs one: `QUIT Quit`, `ERROR Quit`, `QUIT :Quit: bye`
    if (user) session.writeRaw(serializeLine(user.mask, "QUIT", [reason]));
    session.writeRaw(serializeLine(null, "ERROR", [reason]));
    this.destroySession(session, reason, true);
  }

  private destroySession(session: Session, reason: string, announce: boolean): void {
    if (session.closed) return;
    session.closed = true;
    this.sessions.delete(session);
    // flush what was written (ERROR, QUIT echo), then close for good
    session.socket.end(() => session.socket.destroy());
    setTimeout(() => session.socket.destroy(), 1000).unref();
    const user = session.user;
    if (!user) return;
    user.sessions.delete(session);
    if (user.sessions.size > 0) return;
    // last session gone: the user leaves the network
    if (announce) {
      const line: OutgoingLine = {
        source: user.mask,
        command: "QUIT",
        params: [reason],
        from: user,
      };
      for (const peer of this.peersOf(user)) this.sendToUser(peer, line);
    }
    for (const channel of user.channels) {
      channel.members.delete(user);
      if (channel.members.size === 0) this.channels.delete(casefold(channel.name));
    }
    user.channels.clear();
    if (this.users.get(casefold(user.nick)) === user) this.users.delete(casefold(user.nick));
  }

  // ---------------------------------------------------------------- OPER

  private handleOper(session: Session, user: User, p: string[], rb: ResponseBuffer): void {
    if (p.length < 2) {
      rb.numeric("461", "OPER", "Not enough parameters");
      return;
    }
    const [name = "", password = ""] = p;
    const oper = this.config.opers.find((o) => casefold(o.name) === casefold(name));
    if (!oper || oper.password !== password) {
      // ergo disconnects a client after a wrong oper password (seen live)
      rb.numeric("464", "Password incorrect");
      rb.flush();
      this.quitSession(session, "Password incorrect");
      return;
    }
    user.oper = oper.name;
    user.modes.add("o");
    rb.numeric("381", "You are now an IRC operator");
    rb.add({ source: this.serverName, command: "MODE", params: [user.nick, "+o"] });
  }

  // ---------------------------------------------------------------- accounts (SASL / NickServ hosts)

  /** Marks a registered user as logged in and tells peers with account-notify. */
  loginUser(user: User, account: Account): void {
    user.account = account;
    const line: OutgoingLine = {
      source: user.mask,
      command: "ACCOUNT",
      params: [account.name],
      from: user,
    };
    for (const peer of [user, ...this.peersOf(user)]) {
      for (const s of peer.sessions) if (s.caps.has("account-notify")) sendTo(s, line);
    }
  }

  // ---------------------------------------------------------------- messages

  private async handleMessage(
    session: Session,
    user: User,
    msg: IrcMessage,
    rb: ResponseBuffer,
  ): Promise<void> {
    const command = msg.command;
    const [targets, text] = msg.params;
    const isTagmsg = command === "TAGMSG";
    if (targets === undefined || targets === "") {
      if (command !== "NOTICE") rb.numeric("411", `No recipient given (${command})`);
      return;
    }
    if (!isTagmsg && (text === undefined || text === "")) {
      if (command !== "NOTICE") rb.numeric("412", "No text to send");
      return;
    }
    if (isTagmsg && !session.caps.has("message-tags")) return;
    const clientTags = new Map([...msg.tags].filter(([k]) => k.startsWith("+")));
    for (const target of targets.split(",").slice(0, 4)) {
      if (!isTagmsg && isNickServTarget(target)) {
        if (command === "PRIVMSG") await handleNickServ(this, session, text ?? "", rb);
        continue;
      }
      if (command === "PRIVMSG") user.lastActiveAt = new Date();
      const line: OutgoingLine = {
        source: user.mask,
        command,
        params: isTagmsg ? [target] : [target, text ?? ""],
        options: { forceTrailing: !isTagmsg },
        from: user,
        clientTags,
      };
      const deliver = (s: Session) => {
        if (isTagmsg && !s.caps.has("message-tags")) return;
        sendTo(s, line);
      };
      if (target.startsWith("#")) {
        const channel = this.channels.get(casefold(target));
        if (!channel) {
          if (command !== "NOTICE") rb.numeric("403", target, "No such channel");
          continue;
        }
        if (!channel.members.has(user)) {
          if (command !== "NOTICE") rb.numeric("404", channel.name, "Cannot send to channel");
          continue;
        }
        for (const member of channel.members.keys())
          if (member !== user) member.sessions.forEach(deliver);
      } else {
        const recipient = this.findUser(target);
        if (!recipient) {
          if (command !== "NOTICE") rb.numeric("401", target, "No such nick");
          continue;
        }
        if (recipient !== user) recipient.sessions.forEach(deliver);
        if (recipient.away && command === "PRIVMSG")
          rb.numeric("301", recipient.nick, recipient.away);
      }
      // other sessions of the sender see what it sent (multiclient); this one only with echo-message
      for (const s of user.sessions) {
        if (s !== session) deliver(s);
        else if (s.caps.has("echo-message")) rb.add(line);
      }
    }
  }

  // ---------------------------------------------------------------- WHOIS / WHO

  /**
   * WHOIS as ergo 2.15.0 answers it (seen live): 311, 319 (channels of an invisible user only to
   * members of them, opers and itself), then for opers and the user itself 313 (an oper),
   * 338 (real user@IP) and 379 (modes), then 671, 330, 317, 301, 318.
   */
  private handleWhois(requester: User, p: string[], rb: ResponseBuffer): void {
    const query = p.length >= 2 ? p[1] : p[0];
    if (query === undefined || query === "") {
      rb.numeric("431", "No nickname given");
      return;
    }
    const mask = query.split(",")[0] ?? query;
    const target = this.findUser(mask);
    if (!target) {
      rb.numeric("401", mask, "No such nick");
      rb.numeric("318", mask, "End of /WHOIS list");
      return;
    }
    const privileged = requester === target || requester.oper !== null;
    const multiPrefix = rb.session.caps.has("multi-prefix");
    rb.numeric("311", target.nick, target.username, target.hostname, "*", target.realname);
    const chans = [...target.channels]
      .filter((c) => privileged || !target.modes.has("i") || c.members.has(requester))
      .map((c) => c.prefixOf(target, multiPrefix) + c.name);
    if (chans.length > 0)
      rb.add({
        source: this.serverName,
        command: "319",
        params: [rb.session.nick, target.nick, chans.join(" ")],
        options: { forceTrailing: true },
      });
    if (privileged) {
      if (target.oper) rb.numeric("313", target.nick, "is the server administrator");
      const ip = [...target.sessions][0]?.ip ?? "127.0.0.1";
      rb.numeric("338", target.nick, `${target.username}@${ip}`, ip, "Actual user@host, Actual IP");
      rb.numeric("379", target.nick, `is using modes ${target.modeString}`);
    }
    if (target.secure) rb.numeric("671", target.nick, "is using a secure connection");
    if (target.account) rb.numeric("330", target.nick, target.account.name, "is logged in as");
    const idle = Math.max(0, Math.floor((Date.now() - target.lastActiveAt.getTime()) / 1000));
    rb.numeric(
      "317",
      target.nick,
      String(idle),
      unixSeconds(target.signonAt),
      "seconds idle, signon time",
    );
    if (target.away) rb.numeric("301", target.nick, target.away);
    rb.numeric("318", mask, "End of /WHOIS list");
  }

  private handleWho(session: Session, p: string[], rb: ResponseBuffer): void {
    const mask = p[0] ?? "*";
    const whox = p[1]?.startsWith("%") ? p[1].slice(1) : null;
    let rows: Array<{ user: User; channel: Channel | null }> = [];
    if (mask.startsWith("#")) {
      const channel = this.channels.get(casefold(mask));
      if (channel) rows = [...channel.members.keys()].map((u) => ({ user: u, channel }));
    } else {
      const u = this.findUser(mask);
      if (u) rows = [{ user: u, channel: null }];
    }
    const multiPrefix = session.caps.has("multi-prefix");
    for (const { user, channel } of rows) {
      const flags =
        (user.away ? "G" : "H") +
        (user.oper ? "*" : "") +
        (channel ? channel.prefixOf(user, multiPrefix) : "");
      const chanName = channel?.name ?? "*";
      if (whox === null) {
        rb.numeric(
          "352",
          chanName,
          user.username,
          user.hostname,
          this.serverName,
          user.nick,
          flags,
          `0 ${user.realname}`,
        );
        continue;
      }
      const [fields = "", token = ""] = whox.split(",");
      const values: string[] = [];
      for (const field of "tcuihsnfdlaor") {
        if (!fields.includes(field)) continue;
        const value: Record<string, string> = {
          t: token,
          c: chanName,
          u: user.username,
          i: "255.255.255.255",
          h: user.hostname,
          s: this.serverName,
          n: user.nick,
          f: flags,
          d: "0",
          l: String(Math.floor((Date.now() - user.lastActiveAt.getTime()) / 1000)),
          a: user.account?.name ?? "0",
          o: "n/a",
          r: user.realname,
        };
        values.push(value[field] ?? "");
      }
      rb.add({
        source: this.serverName,
        command: "354",
        params: [session.nick, ...values],
        options: { forceTrailing: fields.includes("r") },
      });
    }
    rb.numeric("315", mask, "End of WHO list");
  }

  // ---------------------------------------------------------------- channels

  private joinLine(session: Session, user: User, channel: Channel): OutgoingLine {
    const params = session.caps.has("extended-join")
      ? [channel.name, user.account?.name ?? "*", user.realname]
      : [channel.name];
    return {
      source: user.mask,
      command: "JOIN",
      params,
      from: user,
      options: { forceTrailing: params.length === 3 },
    };
  }

  private handleJoin(session: Session, user: User, p: string[], rb: ResponseBuffer): void {
    const names = p[0];
    if (names === undefined || names === "") {
      rb.numeric("461", "JOIN", "Not enough parameters");
      return;
    }
    if (names === "0") {
      for (const channel of [...user.channels]) this.partChannel(user, channel, "");
      return;
    }
    for (const name of names.split(",")) {
      if (!isValidChannel(name)) {
        rb.numeric("403", name, "No such channel");
        continue;
      }
      const cf = casefold(name);
      let channel = this.channels.get(cf);
      if (channel?.members.has(user)) continue;
      const founder = !channel;
      if (!channel) {
        channel = new Channel(name);
        this.channels.set(cf, channel);
      }
      channel.members.set(user, { op: founder, voice: false, joinedAt: new Date() });
      user.channels.add(channel);
      for (const member of channel.members.keys()) {
        for (const s of member.sessions) {
          if (s === session) rb.add(this.joinLine(s, user, channel));
          else sendTo(s, this.joinLine(s, user, channel));
        }
      }
      this.sendTopic(rb, channel, false);
      this.sendNames(session, rb, channel.name);
    }
  }

  private partChannel(user: User, channel: Channel, reason: string): void {
    const params = reason ? [channel.name, reason] : [channel.name];
    const line: OutgoingLine = { source: user.mask, command: "PART", params, from: user };
    for (const member of channel.members.keys()) this.sendToUser(member, line);
    channel.members.delete(user);
    user.channels.delete(channel);
    if (channel.members.size === 0) this.channels.delete(casefold(channel.name));
  }

  private handlePart(user: User, p: string[], rb: ResponseBuffer): void {
    const names = p[0];
    if (names === undefined || names === "") {
      rb.numeric("461", "PART", "Not enough parameters");
      return;
    }
    for (const name of names.split(",")) {
      const channel = this.channels.get(casefold(name));
      if (!channel) {
        rb.numeric("403", name, "No such channel");
        continue;
      }
      if (!channel.members.has(user)) {
        rb.numeric("442", channel.name, "You're not on that channel");
        continue;
      }
      this.partChannel(user, channel, p[1] ?? "");
    }
  }

  private sendTopic(rb: ResponseBuffer, channel: Channel, replyWhenEmpty: boolean): void {
    if (channel.topic) {
      rb.numeric("332", channel.name, channel.topic);
      rb.numeric(
        "333",
        channel.name,
        channel.topicSetBy,
        unixSeconds(channel.topicSetAt ?? channel.createdAt),
      );
    } else if (replyWhenEmpty) {
      rb.numeric("331", channel.name, "No topic is set");
    }
  }

  private sendNames(session: Session, rb: ResponseBuffer, name: string): void {
    const channel = this.channels.get(casefold(name));
    if (channel) {
      const multiPrefix = session.caps.has("multi-prefix");
      const uhnames = session.caps.has("userhost-in-names");
      const entries = [...channel.members.keys()].map(
        (u) => channel.prefixOf(u, multiPrefix) + (uhnames ? u.mask : u.nick),
      );
      for (let i = 0; i < entries.length; i += 20) {
        rb.add({
          source: this.serverName,
          command: "353",
          params: [session.nick, "=", channel.name, entries.slice(i, i + 20).join(" ")],
          options: { forceTrailing: true },
        });
      }
    }
    rb.numeric("366", channel?.name ?? name, "End of NAMES list");
  }

  private handleTopic(user: User, p: string[], rb: ResponseBuffer): void {
    const name = p[0];
    if (name === undefined) {
      rb.numeric("461", "TOPIC", "Not enough parameters");
      return;
    }
    const channel = this.channels.get(casefold(name));
    if (!channel) {
      rb.numeric("403", name, "No such channel");
      return;
    }
    if (p.length < 2) {
      this.sendTopic(rb, channel, true);
      return;
    }
    const member = channel.members.get(user);
    if (!member) {
      rb.numeric("442", channel.name, "You're not on that channel");
      return;
    }
    if (!member.op) {
      rb.numeric("482", channel.name, "You're not a channel operator");
      return;
    }
    channel.topic = (p[1] ?? "").slice(0, 390);
    channel.topicSetBy = user.mask;
    channel.topicSetAt = new Date();
    const line: OutgoingLine = {
      source: user.mask,
      command: "TOPIC",
      params: [channel.name, channel.topic],
      from: user,
    };
    for (const m of channel.members.keys()) this.sendToUser(m, line);
  }

  private handleMode(user: User, p: string[], rb: ResponseBuffer): void {
    const target = p[0];
    if (target === undefined) {
      rb.numeric("461", "MODE", "Not enough parameters");
      return;
    }
    if (target.startsWith("#")) {
      const channel = this.channels.get(casefold(target));
      if (!channel) {
        rb.numeric("403", target, "No such channel");
        return;
      }
      const change = p[1];
      if (change === undefined) {
        rb.numeric("324", channel.name, "+nt");
        rb.numeric("329", channel.name, unixSeconds(channel.createdAt));
        return;
      }
      if (/^[+-]?[beI]$/.test(change) && p.length === 2) {
        const end = {
          b: ["368", "End of channel ban list"],
          e: ["349", "End of channel exception list"],
          I: ["347", "End of channel invite list"],
        } as const;
        const [code, text] = end[change.slice(-1) as "b" | "e" | "I"];
        rb.numeric(code, channel.name, text);
        return;
      }
      const membership = channel.members.get(user);
      if (!membership?.op) {
        rb.numeric("482", channel.name, "You're not a channel operator");
        return;
      }
      const m = /^([+-])([ov])$/.exec(change);
      const targetUser = p[2] ? this.findUser(p[2]) : undefined;
      if (!m || !targetUser) {
        rb.numeric("472", change.replace(/^[+-]/, "").slice(0, 1), "is an unknown mode char to me");
        return;
      }
      const targetMembership = channel.members.get(targetUser);
      if (!targetMembership) {
        rb.numeric("441", targetUser.nick, channel.name, "They aren't on that channel");
        return;
      }
      const on = m[1] === "+";
      if (m[2] === "o") targetMembership.op = on;
      else targetMembership.voice = on;
      const line: OutgoingLine = {
        source: user.mask,
        command: "MODE",
        params: [channel.name, change, targetUser.nick],
        from: user,
      };
      for (const member of channel.members.keys()) this.sendToUser(member, line);
      return;
    }
    const targetUser = this.findUser(target);
    if (!targetUser) {
      rb.numeric("401", target, "No such nick");
      return;
    }
    if (targetUser !== user) {
      rb.numeric("502", "Can't change modes for other users");
      return;
    }
    const change = p[1];
    if (change === undefined) {
      rb.numeric("221", user.modeString);
      return;
    }
    let sign = "+";
    let applied = "";
    let appliedSign = "";
    for (const ch of change) {
      if (ch === "+" || ch === "-") {
        sign = ch;
        continue;
      }
      const allowed = ch === "i" || (ch === "o" && sign === "-");
      if (!allowed) continue;
      const had = user.modes.has(ch);
      if (sign === "+" && !had) user.modes.add(ch);
      else if (sign === "-" && had) user.modes.delete(ch);
      else continue;
      if (ch === "o") user.oper = null;
      if (appliedSign !== sign) {
        applied += sign;
        appliedSign = sign;
      }
      applied += ch;
    }
    // ergo 2.15: a change comes from the user's own mask; a request that changes nothing gets 221
    if (!applied) {
      rb.numeric("221", user.modeString);
      return;
    }
    const line: OutgoingLine = { source: user.mask, command: "MODE", params: [user.nick, applied] };
    rb.add(line);
    for (const s of user.sessions) if (s !== rb.session) sendTo(s, line);
  }

  private handleAway(user: User, p: string[], rb: ResponseBuffer): void {
    user.away = awayMessage(p[0], user.away);
    if (user.away) rb.numeric("306", "You have been marked as being away");
    else rb.numeric("305", "You are no longer marked as being away");
    const line: OutgoingLine = {
      source: user.mask,
      command: "AWAY",
      params: user.away ? [user.away] : [],
      from: user,
    };
    for (const peer of [user, ...this.peersOf(user)]) {
      for (const s of peer.sessions)
        if (s.caps.has("away-notify") && s !== rb.session) sendTo(s, line);
    }
  }

  private handleSetname(user: User, p: string[], rb: ResponseBuffer): void {
    const realname = p[0];
    if (realname === undefined || realname === "") {
      rb.numeric("461", "SETNAME", "Not enough parameters");
      return;
    }
    user.realname = realname;
    const line: OutgoingLine = {
      source: user.mask,
      command: "SETNAME",
      params: [realname],
      options: { forceTrailing: true },
      from: user,
    };
    for (const peer of [user, ...this.peersOf(user)]) {
      for (const s of peer.sessions) {
        if (!s.caps.has("setname")) continue;
        if (s === rb.session) rb.add(line);
        else sendTo(s, line);
      }
    }
  }
}
