import {
  DatabaseError,
  networkName,
  type ChannelRecord,
  type NetworkRecord,
  type SojuStore,
  type UserRecord,
} from "./store";
import { checkNetworkAddr, UpstreamConn, type UpstreamResult } from "./upstream";
import { goQuote } from "./words";

/** An error whose text soju would print as is (FAIL BOUNCERSERV :<text>). */
export class SojuError extends Error {}

export const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Runs async sections one at a time, like soju's per-user goroutine (here: one for the whole bouncer). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface BouncerConfig {
  hostname: string;
  /** The global `max-user-networks` (-1: unlimited). */
  maxUserNetworks: number;
  reconnectMinDelayMs: number;
  reconnectMaxDelayMs: number;
  upstreamTimeoutMs: number;
  /** soju.conf `auth http <url>`: every PASS and SASL PLAIN login is checked there. */
  authHttp?: string;
  log: (line: string) => void;
}

/** A downstream client session attached to a user (a real IRC connection or a simulated one). */
export interface DownstreamSession {
  readonly user: SojuUser;
  network: SojuNetwork | undefined;
  readonly nick: string;
  /** Sends a raw line to the client (no-op for simulated sessions). */
  sendLine(line: string): void;
  close(): void;
}

export const ircLower = (s: string): string =>
  s.replace(
    /[A-Z[\]\\~]/g,
    (c) => ({ "[": "{", "]": "}", "\\": "|", "~": "^" })[c] ?? c.toLowerCase(),
  );

/** database.GetNick / GetUsername / GetRealname. */
export function effectiveNick(user: UserRecord, network?: NetworkRecord): string {
  return network?.nick || user.nick || user.username;
}
export function effectiveUsername(user: UserRecord, network?: NetworkRecord): string {
  return network?.username || effectiveNick(user, network);
}
export function effectiveRealname(user: UserRecord, network?: NetworkRecord): string {
  return network?.realname || user.realname || effectiveNick(user, network);
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/** soju's `network`: the record, its saved channels and its upstream connection loop. */
export class SojuNetwork {
  /** Registered upstream connection, or null (soju's `net.conn`). */
  conn: UpstreamConn | null = null;
  /** `connection error: …` of the last failed attempt (soju's `net.lastError`). */
  lastError: string | null = null;
  /** Saved channels, keyed by casemapped name. */
  readonly channels = new Map<string, ChannelRecord>();
  /** An attempt (dial/registration/session) is under way: soju's `upstreams` gauge. */
  attempting = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private current: UpstreamConn | null = null;

  constructor(
    readonly user: SojuUser,
    public record: NetworkRecord,
    channels: readonly ChannelRecord[],
  ) {
    for (const channel of channels) this.channels.set(ircLower(channel.name), channel);
  }

  get name(): string {
    return networkName(this.record);
  }

  start(): void {
    this.run().catch((error: unknown) => this.log(`network loop failed: ${errorText(error)}`));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.current?.close();
    this.conn = null;
  }

  private async run(): Promise<void> {
    if (!this.user.record.enabled || !this.record.enabled) return;
    const config = this.user.bouncer.config;
    let failures = 0;
    let lastTry = 0;
    let first = true;
    while (!this.stopped) {
      const delay = first
        ? 0
        : Math.min(
            config.reconnectMinDelayMs * 2 ** Math.max(failures - 1, 0),
            config.reconnectMaxDelayMs,
          );
      first = false;
      await sleep(delay - (Date.now() - lastTry), this.abort.signal);
      if (this.stopped) return;
      lastTry = Date.now();
      const result = await this.runConn();
      if (this.stopped) return;
      if (result.error !== null) {
        failures += 1;
        this.lastError = `connection error: ${result.error}`;
        this.log(`connection error to ${goQuote(this.record.addr)}: ${result.error}`);
      } else {
        failures = 0;
      }
    }
  }

  private async runConn(): Promise<UpstreamResult> {
    const user = this.user.record;
    const net = this.record;
    const uc = new UpstreamConn({
      addr: net.addr,
      nick: effectiveNick(user, net),
      username: effectiveUsername(user, net),
      realname: effectiveRealname(user, net),
      pass: net.pass,
      sasl: {
        mechanism: net.saslMechanism,
        username: net.saslPlainUsername,
        password: net.saslPlainPassword,
      },
      channels: [...this.channels.values()].map((ch) => ({ name: ch.name, key: ch.key })),
      connectCommands: net.connectCommands,
      timeoutMs: this.user.bouncer.config.upstreamTimeoutMs,
      awayOnRegister: net.autoAway && this.user.downstreams.size === 0,
      log: (line) => this.log(line),
    });
    this.current = uc;
    this.attempting = true;
    uc.onRegistered = () => {
      if (this.stopped) return;
      this.conn = uc;
      this.lastError = null;
    };
    try {
      return await uc.done;
    } finally {
      this.attempting = false;
      if (this.current === uc) this.current = null;
      if (this.conn === uc) this.conn = null;
    }
  }

  private log(line: string): void {
    this.user.bouncer.config.log(
      `user ${goQuote(this.user.record.username)}: network ${goQuote(this.name)}: ${line}`,
    );
  }
}

/** soju's `user`: its record as loaded at start (or changed through the service), networks, clients. */
export class SojuUser {
  networks: SojuNetwork[] = [];
  readonly downstreams = new Set<DownstreamSession>();

  constructor(
    readonly bouncer: Bouncer,
    public record: UserRecord,
  ) {}

  getNetwork(name: string): SojuNetwork | undefined {
    return this.networks.find(
      (n) => n.record.addr === name || (n.record.name !== "" && n.record.name === name),
    );
  }

  /** user.checkNetwork */
  checkNetwork(record: NetworkRecord): void {
    checkNetworkAddr(record.addr, this.record.admin);
    const name = networkName(record);
    if (name === "") throw new SojuError("network name cannot be empty");
    if (name.startsWith("-"))
      throw new SojuError("network name cannot start with a dash character");
    for (const net of this.networks) {
      if (net.name === name && net.record.id !== record.id)
        throw new SojuError(`a network with the name ${goQuote(name)} already exists`);
    }
  }

  private checkLimit(record: NetworkRecord, ignoreLimit: boolean): void {
    if (ignoreLimit || !record.enabled) return;
    const max =
      this.record.maxNetworks >= 0 ? this.record.maxNetworks : this.bouncer.config.maxUserNetworks;
    const enabled = this.networks.filter(
      (n) => n.record.enabled && n.record.id !== record.id,
    ).length;
    if (max >= 0 && enabled >= max)
      throw new SojuError("maximum number of enabled networks reached");
  }

  private addNetwork(network: SojuNetwork): void {
    this.networks.push(network);
    this.networks.sort((a, b) => a.record.id - b.record.id);
    network.start();
  }

  async createNetwork(record: NetworkRecord, ignoreLimit: boolean): Promise<SojuNetwork> {
    this.checkNetwork(record);
    this.checkLimit(record, ignoreLimit);
    await this.bouncer.store.storeNetwork(this.record.id, record);
    const network = new SojuNetwork(this, record, []);
    this.addNetwork(network);
    return network;
  }

  /** user.updateNetwork: store, then replace the network object, which disconnects and reconnects. */
  async updateNetwork(record: NetworkRecord, ignoreLimit = true): Promise<SojuNetwork> {
    if (record.nick === this.record.nick) record.nick = "";
    if (record.realname === this.record.realname) record.realname = "";
    this.checkNetwork(record);
    const old = this.networks.find((n) => n.record.id === record.id);
    if (!old) throw new SojuError("tried updating a non-existing network");
    if (!old.record.enabled) this.checkLimit(record, ignoreLimit);
    await this.bouncer.store.storeNetwork(this.record.id, record);
    const updated = new SojuNetwork(this, record, [...old.channels.values()]);
    old.stop();
    for (const dc of this.downstreams) if (dc.network === old) dc.network = updated;
    this.networks = this.networks.filter((n) => n !== old);
    this.addNetwork(updated);
    return updated;
  }

  async deleteNetwork(network: SojuNetwork): Promise<void> {
    await this.bouncer.store.deleteNetwork(network.record.id);
    network.stop();
    for (const dc of [...this.downstreams]) if (dc.network === network) dc.close();
    this.networks = this.networks.filter((n) => n !== network);
  }

  /** user.updateUser: apply to a copy, write the WHOLE record, then apply side effects. */
  async updateUser(update: (record: UserRecord) => void): Promise<void> {
    const record = { ...this.record };
    update(record);
    const nickUpdated = record.nick !== this.record.nick;
    const realnameUpdated = record.realname !== this.record.realname;
    const enabledUpdated = record.enabled !== this.record.enabled;
    try {
      await this.bouncer.store.storeUser(record);
    } catch (error) {
      throw new SojuError(
        `failed to update user ${goQuote(this.record.username)}: ${errorText(error)}`,
      );
    }
    this.record = record;
    if (nickUpdated) {
      for (const net of this.networks) {
        if (net.record.nick === "" && net.conn)
          net.conn.send({ command: "NICK", params: [effectiveNick(record, net.record)] });
      }
    }
    if (realnameUpdated || enabledUpdated) {
      const needUpdate: NetworkRecord[] = [];
      for (const net of this.networks) {
        if (realnameUpdated && !enabledUpdated) {
          if (net.record.realname !== "") continue;
          if (net.conn?.caps.has("setname")) {
            net.conn.send({ command: "SETNAME", params: [effectiveRealname(record, net.record)] });
            continue;
          }
        }
        needUpdate.push({ ...net.record });
      }
      let netError: unknown;
      for (const net of needUpdate) {
        try {
          await this.updateNetwork(net);
        } catch (error) {
          netError = error;
        }
      }
      if (netError) throw netError;
    }
    if (!this.record.enabled) for (const dc of [...this.downstreams]) dc.close();
  }

  /** bumpDownstreamInteractionTime: rewrites the whole in-memory user row (facts §3 pitfall). */
  async bumpDownstreamInteractionTime(): Promise<void> {
    try {
      await this.updateUser((r) => void (r.downstreamInteractedAt = new Date()));
    } catch (error) {
      this.bouncer.config.log(
        `user ${goQuote(this.record.username)}: failed to bump downstream interaction time: ${errorText(error)}`,
      );
    }
  }

  updateAway(): void {
    const away = this.downstreams.size === 0;
    for (const net of this.networks) {
      if (!net.record.autoAway || !net.conn) continue;
      net.conn.send(
        away
          ? { command: "AWAY", params: [net.conn.autoAwayReason] }
          : { command: "AWAY", params: [] },
      );
    }
  }

  stop(): void {
    for (const dc of [...this.downstreams]) dc.close();
    for (const net of this.networks) net.stop();
  }
}

/** The bouncer's in-memory state: users and networks loaded ONCE at start (facts §3). */
export class Bouncer {
  readonly users = new Map<string, SojuUser>();
  readonly queue = new SerialQueue();

  constructor(
    readonly store: SojuStore,
    readonly config: BouncerConfig,
  ) {}

  async load(): Promise<void> {
    for (const record of await this.store.listUsers()) {
      const user = new SojuUser(this, record);
      this.users.set(record.username, user);
      for (const net of await this.store.listNetworks(record.id)) {
        const network = new SojuNetwork(user, net, await this.store.listChannels(net.id));
        user.networks.push(network);
      }
    }
    for (const user of this.users.values()) for (const network of user.networks) network.start();
  }

  getUser(username: string): SojuUser | undefined {
    return this.users.get(username);
  }

  async createUser(record: UserRecord): Promise<SojuUser> {
    if (this.users.has(record.username))
      throw new SojuError(`user ${goQuote(record.username)} already exists`);
    await this.store.storeUser(record);
    const user = new SojuUser(this, record);
    this.users.set(record.username, user);
    return user;
  }

  async deleteUser(user: SojuUser): Promise<void> {
    user.stop();
    this.users.delete(user.record.username);
    try {
      await this.store.deleteUser(user.record.id);
    } catch (error) {
      throw new SojuError(
        `failed to delete user: ${error instanceof DatabaseError ? error.message : errorText(error)}`,
      );
    }
  }

  downstreamCount(): number {
    let n = 0;
    for (const user of this.users.values()) n += user.downstreams.size;
    return n;
  }

  upstreamCount(): number {
    let n = 0;
    for (const user of this.users.values())
      for (const net of user.networks) if (net.attempting) n += 1;
    return n;
  }

  stop(): void {
    for (const user of this.users.values()) user.stop();
  }
}
