/**
 * soju's admin unix socket (`listen unix+admin://…`, facts/soju.md §7): plain IRC lines, no
 * greeting, no registration, every connection is admin. One connection per bouncer is kept and
 * reused; commands on it run strictly one at a time. The client never half-closes: soju closes on
 * EOF and drops replies still queued (§7.1), so a connection is only ever destroyed.
 *
 * A bouncer's connection is closed after `idleTimeoutMs` without a command (default 60 s), and
 * by `release(bouncer)` (the bouncer was deleted), so a worker that touches many bouncers keeps
 * open only the connections it is using. The next command simply connects again.
 */
import net from "node:net";
import { runHeldInTwo, type SequenceHold, type SequenceResult, type SojuTransport } from "./admin";
import { errorText, silentLogger, type SojuLogger } from "./logger";
import { SojuUnavailable } from "./port";
import { ReplyCollector, replyOutput, type Reply } from "./replies";
import { bouncerServLine } from "./words";

export interface SocketTransportOptions {
  /** Socket path; `{name}` is replaced by the bouncer name. A `unix+admin://` prefix is accepted. */
  pathTemplate: string;
  /** Per command, from write to terminal line (default 30 s). Also bounds the connect. */
  commandTimeoutMs?: number;
  /** A bouncer's connection is closed after this long without a command (default 60 000 ms; 0: never). */
  idleTimeoutMs?: number;
  logger?: SojuLogger;
}

export const DEFAULT_SOCKET_IDLE_TIMEOUT_MS = 60_000;

/** `SOJU_ADMIN_SOCKET` → the socket path of one bouncer. */
export function socketPathFor(template: string, bouncer: string): string {
  const path = template.split("{name}").join(bouncer);
  const url = /^unix(?:\+admin)?:\/\/(.*)$/.exec(path);
  return url ? url[1] || "/run/soju/admin" : path;
}

/** Splits a byte stream into lines at LF (CR stripped), decoding each whole line as UTF-8. */
class LineBuffer {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const lines: string[] = [];
    let start = 0;
    for (
      let lf = this.buffer.indexOf(0x0a, start);
      lf !== -1;
      lf = this.buffer.indexOf(0x0a, start)
    ) {
      lines.push(this.buffer.subarray(start, lf).toString("utf8").replace(/\r$/, ""));
      start = lf + 1;
    }
    this.buffer = this.buffer.subarray(start);
    return lines;
  }
}

/** The connection ended while a command was pending. */
class ConnectionLost extends SojuUnavailable {
  constructor(
    message: string,
    /** Not a byte arrived after the command was written: soju most likely never read it. */
    readonly nothingReceived: boolean,
  ) {
    super(message);
  }
}

interface Pending {
  collector: ReplyCollector;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/** One admin-socket connection. */
class AdminConnection {
  private readonly lines = new LineBuffer();
  private pending: Pending | undefined;
  private closedReason: string | undefined;
  private receivedSinceWrite = false;
  /** Commands this connection has completed (a reused connection may have gone stale). */
  completed = 0;

  private constructor(
    private readonly socket: net.Socket,
    readonly path: string,
    private readonly log: SojuLogger,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.receivedSinceWrite = true;
      for (const line of this.lines.push(chunk)) this.onLine(line);
    });
    socket.on("error", (error: Error) => this.fail(`admin socket ${path}: ${error.message}`));
    socket.on("close", () => this.fail(`soju closed the admin socket ${path}`));
  }

  static open(path: string, timeoutMs: number, log: SojuLogger): Promise<AdminConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new SojuUnavailable(
            `could not connect to soju's admin socket ${path} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new AdminConnection(socket, path, log));
      });
      socket.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new SojuUnavailable(
            `could not connect to soju's admin socket ${path}: ${error.code ?? error.message}`,
          ),
        );
      });
    });
  }

  get usable(): boolean {
    return this.closedReason === undefined && !this.socket.destroyed;
  }

  /** Sends one command line and resolves with its reply group. */
  command(line: string, timeoutMs: number): Promise<Reply> {
    if (!this.usable)
      return Promise.reject(
        new SojuUnavailable(this.closedReason ?? `admin socket ${this.path} is closed`),
      );
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // soju may have run the command (never retried); a late reply would put the connection
        // out of step, so drop it.
        this.pending = undefined;
        reject(new SojuUnavailable(`soju sent no terminal reply within ${timeoutMs} ms`));
        this.destroy("timed out");
      }, timeoutMs);
      this.pending = {
        collector: new ReplyCollector(),
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.receivedSinceWrite = false;
      this.socket.write(`${line}\r\n`);
    });
  }

  private onLine(line: string): void {
    const pending = this.pending;
    if (!pending) {
      if (line.trim() !== "")
        this.log.debug({ path: this.path }, "soju admin socket: ignoring a line outside any reply");
      return;
    }
    const reply = pending.collector.push(line);
    if (!reply) return;
    this.pending = undefined;
    this.completed += 1;
    // soju closes the connection after ERROR (§7.3): do not reuse it.
    if (reply.terminal.kind === "error") this.destroy(`soju sent ERROR ${reply.terminal.text}`);
    pending.resolve(reply);
  }

  private fail(reason: string): void {
    this.closedReason ??= reason;
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      const partial = pending.collector.partial.length;
      const message = `${reason} before the terminal reply line${partial > 0 ? ` (after ${partial} output lines)` : ""}`;
      pending.reject(new ConnectionLost(message, !this.receivedSinceWrite));
    }
  }

  /** Closes without half-closing (never `end()`). */
  destroy(reason = "closed by the client"): void {
    this.fail(reason);
    this.socket.destroy();
  }
}

export class SocketTransport implements SojuTransport {
  private readonly connections = new Map<string, AdminConnection>();
  /** Per socket path: the tail of the command queue (one command at a time per connection). */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Per socket path: the timer that closes its idle connection. */
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly log: SojuLogger;
  private closed = false;

  constructor(private readonly options: SocketTransportOptions) {
    this.timeoutMs = options.commandTimeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_SOCKET_IDLE_TIMEOUT_MS;
    if (!Number.isFinite(this.idleTimeoutMs) || this.idleTimeoutMs < 0)
      throw new RangeError(
        `idleTimeoutMs must be 0 or a positive number, not ${this.idleTimeoutMs}`,
      );
    this.log = options.logger ?? silentLogger;
  }

  /** Admin-socket connections currently kept open (one per bouncer in use). */
  get openConnections(): number {
    let n = 0;
    for (const connection of this.connections.values()) if (connection.usable) n += 1;
    return n;
  }

  async run(bouncer: string, words: readonly string[]): Promise<string[]> {
    // Encode first: a word soju cannot receive is refused before any connection is made.
    const line = bouncerServLine(words);
    const path = socketPathFor(this.options.pathTemplate, bouncer);
    return this.enqueue(path, () => this.runOn(path, line));
  }

  /**
   * The commands one after another on the bouncer's one connection, in one turn of its queue (no
   * other command for this bouncer runs in between), each waiting for its terminal reply: soju
   * would run a pipelined command even after the one before it failed.
   */
  async runSequence(
    bouncer: string,
    commands: ReadonlyArray<readonly string[]>,
    hold?: SequenceHold,
  ): Promise<SequenceResult> {
    // Every line is checked before anything is sent; a held rest is a second turn.
    for (const words of commands) bouncerServLine(words);
    return runHeldInTwo((part) => this.runTurn(bouncer, part), commands, hold);
  }

  private async runTurn(
    bouncer: string,
    commands: ReadonlyArray<readonly string[]>,
  ): Promise<SequenceResult> {
    const lines = commands.map((words) => bouncerServLine(words));
    const path = socketPathFor(this.options.pathTemplate, bouncer);
    return this.enqueue(path, async () => {
      const outputs: string[][] = [];
      for (const [index, line] of lines.entries()) {
        try {
          outputs.push(await this.runOn(path, line));
        } catch (error) {
          const typed = error instanceof Error ? error : new SojuUnavailable(String(error));
          return { outputs, failure: { index, error: typed } };
        }
      }
      return { outputs };
    });
  }

  /** Closes the bouncer's connection once the commands queued for it are done. */
  async release(bouncer: string): Promise<void> {
    const path = socketPathFor(this.options.pathTemplate, bouncer);
    await this.enqueue(path, async () => {
      this.clearIdle(path);
      const connection = this.connections.get(path);
      if (connection === undefined) return;
      this.drop(path, connection);
      this.log.debug({ path }, "released soju's admin connection");
    });
  }

  /** Runs `task` after everything queued for `path`; arms the idle timer when the queue empties. */
  private enqueue<T>(path: string, task: () => Promise<T>): Promise<T> {
    this.clearIdle(path);
    const previous = this.queues.get(path) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(task);
    const tail = result.catch(() => undefined);
    this.queues.set(path, tail);
    void tail.then(() => {
      if (this.queues.get(path) !== tail) return;
      this.queues.delete(path);
      this.armIdle(path);
    });
    return result;
  }

  private clearIdle(path: string): void {
    const timer = this.idleTimers.get(path);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.idleTimers.delete(path);
  }

  private armIdle(path: string): void {
    if (this.idleTimeoutMs === 0 || this.closed || !this.connections.has(path)) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(path);
      // A command queued meanwhile cleared this timer; so the connection is idle here.
      const connection = this.connections.get(path);
      if (connection === undefined || this.queues.has(path)) return;
      this.drop(path, connection);
      this.log.debug(
        { path, idleMs: this.idleTimeoutMs },
        "closed soju's admin connection after idling",
      );
    }, this.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(path, timer);
  }

  private async connection(path: string): Promise<AdminConnection> {
    const existing = this.connections.get(path);
    if (existing?.usable) return existing;
    const connection = await AdminConnection.open(path, this.timeoutMs, this.log);
    this.connections.set(path, connection);
    this.log.debug({ path }, "connected to soju's admin socket");
    return connection;
  }

  private drop(path: string, connection: AdminConnection): void {
    connection.destroy();
    if (this.connections.get(path) === connection) this.connections.delete(path);
  }

  private async runOn(path: string, line: string): Promise<string[]> {
    if (this.closed) throw new SojuUnavailable("the soju admin client is closed");
    let connection = await this.connection(path);
    let reply: Reply;
    try {
      reply = await connection.command(line, this.timeoutMs);
    } catch (error) {
      this.drop(path, connection);
      // A kept-alive connection that soju closed while idle (e.g. it restarted) fails on the
      // next write with nothing received: soju never read the command, so send it once more on
      // a fresh connection. A fresh connection, a timeout or a partial reply is not retried.
      const stale =
        error instanceof ConnectionLost && error.nothingReceived && connection.completed > 0;
      if (!stale || this.closed)
        throw error instanceof SojuUnavailable ? error : new SojuUnavailable(errorText(error));
      this.log.debug(
        { path },
        "soju's admin connection had gone stale; retrying on a new connection",
      );
      connection = await this.connection(path);
      try {
        reply = await connection.command(line, this.timeoutMs);
      } catch (retryError) {
        this.drop(path, connection);
        throw retryError instanceof SojuUnavailable
          ? retryError
          : new SojuUnavailable(errorText(retryError));
      }
    }
    return replyOutput(reply);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.queues.values()]);
    for (const path of [...this.idleTimers.keys()]) this.clearIdle(path);
    for (const connection of this.connections.values()) connection.destroy();
    this.connections.clear();
  }
}
