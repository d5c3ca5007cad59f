import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, startEmbeddedPostgres, type EmbeddedPg } from "@irc-now/db/testing";
import pg from "pg";
import { startSojuStandin, type SojuStandin, type SojuStandinOptions } from "../../src/soju";

/** A raw admin-socket client: exact bytes in, exact bytes out. Never half-closes. */
export class RawClient {
  raw = Buffer.alloc(0);
  private consumed = 0;
  private ended = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(options: net.NetConnectOpts): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options);
      socket.once("connect", () => resolve(new RawClient(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  get eof(): boolean {
    return this.ended;
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** The next line without its CRLF (asserting the CRLF), or null on EOF. */
  async readLine(timeoutMs = 15_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lf = this.raw.indexOf(0x0a, this.consumed);
      if (lf !== -1) {
        const line = this.raw.subarray(this.consumed, lf).toString("utf8");
        this.consumed = lf + 1;
        if (!line.endsWith("\r")) throw new Error(`line without CRLF: ${JSON.stringify(line)}`);
        return line.slice(0, -1);
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no line within ${timeoutMs} ms; got so far: ${JSON.stringify(this.raw.toString())}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Lines up to and including the first terminal line (BOUNCERSERV, FAIL, ERROR, 3-digit numeric). */
  async readReply(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === null)
        throw new Error(`EOF before a terminal line; got ${JSON.stringify(lines)}`);
      lines.push(line);
      const command = line.startsWith(":") ? line.split(" ")[1] : line.split(" ")[0];
      if (
        command === "BOUNCERSERV" ||
        command === "FAIL" ||
        command === "ERROR" ||
        /^\d{3}$/.test(command ?? "")
      )
        return lines;
    }
  }

  /** Sends `BOUNCERSERV :<text>` and returns the reply group. */
  async command(text: string): Promise<string[]> {
    this.write(`BOUNCERSERV :${text}\r\n`);
    return this.readReply();
  }

  /** Waits for EOF (the server closed) and returns whatever lines were left. */
  async readToEof(timeoutMs = 15_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine(timeoutMs);
      if (line === null) return lines;
      lines.push(line);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Polls `probe` until it returns a non-undefined value, with a deadline (no timing in asserts). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One embedded PostgreSQL per test file plus helpers to start soju stand-ins on fresh databases. */
export class SojuFixture {
  pg!: EmbeddedPg;
  dir!: string;
  private readonly cleanups: Array<() => Promise<void>> = [];
  private counter = 0;

  async setup(): Promise<void> {
    this.pg = await startEmbeddedPostgres();
    this.dir = await mkdtemp(join(tmpdir(), "soju-standin-test-"));
  }

  async teardown(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) await cleanup().catch(() => undefined);
    await this.pg?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  async database(): Promise<string> {
    return createTestDatabase(this.pg.url(), "soju");
  }

  socketPath(): string {
    this.counter += 1;
    return join(this.dir, `admin-${this.counter}.sock`);
  }

  async soju(options: Partial<SojuStandinOptions> = {}): Promise<SojuStandin> {
    const soju = await startSojuStandin({
      databaseUrl: options.databaseUrl ?? (await this.database()),
      adminSocketPath: options.adminSocketPath ?? this.socketPath(),
      reconnectMinDelayMs: 100,
      reconnectMaxDelayMs: 500,
      ...options,
    });
    this.onCleanup(() => soju.stop());
    return soju;
  }

  /** A raw admin-socket client of a soju (the stand-in or a real one). */
  async admin(soju: { adminSocketPath: string }): Promise<RawClient> {
    const client = await RawClient.connect({ path: soju.adminSocketPath });
    this.onCleanup(async () => client.close());
    return client;
  }

  async sql<R extends pg.QueryResultRow = Record<string, unknown>>(
    databaseUrl: string,
    text: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  onCleanup(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }
}

/** irc.v4's rule: the last param gets ':' only when empty, containing a space or starting with ':'. */
const trailing = (t: string): string =>
  t === "" || t.includes(" ") || t.startsWith(":") ? `:${t}` : t;

/** `:soju.test PRIVMSG * :<text>` lines followed by `:soju.test BOUNCERSERV OK`. */
export function ok(...texts: string[]): string[] {
  return [...texts.map((t) => `:soju.test PRIVMSG * ${trailing(t)}`), ":soju.test BOUNCERSERV OK"];
}

/** `:soju.test FAIL BOUNCERSERV :<text>` after optional output lines. */
export function failed(text: string, ...texts: string[]): string[] {
  return [
    ...texts.map((t) => `:soju.test PRIVMSG * ${trailing(t)}`),
    `:soju.test FAIL BOUNCERSERV ${trailing(text)}`,
  ];
}
