import { connect, type Socket } from "node:net";

/**
 * A minimal IRC line client for observing the real servers from tests: it sends raw lines and
 * waits for the replies it is told to expect. It shares no code with the product's IRC code on
 * purpose (it is the independent witness), and it answers PING.
 */

export interface IrcLine {
  raw: string;
  /** Nick (or server name) of the `:prefix`, "" without one. */
  source: string;
  command: string;
  params: string[];
}

/** Parses one IRC line (tags are skipped). */
export function parseLine(raw: string): IrcLine {
  let rest = raw;
  if (rest.startsWith("@")) rest = rest.slice(rest.indexOf(" ") + 1).trimStart();
  let source = "";
  if (rest.startsWith(":")) {
    const space = rest.indexOf(" ");
    const prefix = rest.slice(1, space < 0 ? undefined : space);
    source = prefix.split("!")[0] ?? "";
    rest = space < 0 ? "" : rest.slice(space + 1).trimStart();
  }
  const params: string[] = [];
  let command = "";
  while (rest !== "") {
    if (rest.startsWith(":") && command !== "") {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space + 1).trimStart();
    if (command === "") command = word.toUpperCase();
    else params.push(word);
  }
  return { raw, source, command, params };
}

export class IrcLineClient {
  readonly lines: IrcLine[] = [];
  private buffer = "";
  private waiters = new Set<() => void>();
  private closedError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf("\n")) >= 0) {
        const raw = this.buffer.slice(0, i).replace(/\r$/, "");
        this.buffer = this.buffer.slice(i + 1);
        if (raw === "") continue;
        const line = parseLine(raw);
        if (line.command === "PING") this.send(`PONG :${line.params[0] ?? ""}`);
        this.lines.push(line);
      }
      this.wake();
    });
    socket.on("error", (error) => {
      this.closedError ??= error;
      this.wake();
    });
    socket.on("close", () => {
      this.closedError ??= new Error("connection closed");
      this.wake();
    });
  }

  static connect(host: string, port: number, timeoutMs = 10_000): Promise<IrcLineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        resolve(new IrcLineClient(socket));
      });
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  send(line: string): void {
    if (/[\r\n\0]/.test(line)) throw new Error("an IRC line cannot contain CR, LF or NUL");
    this.socket.write(`${line}\r\n`);
  }

  /** Index of the next line to arrive: pass it to `waitFor` to only look at later lines. */
  mark(): number {
    return this.lines.length;
  }

  /** The first line at index ≥ `from` that matches; rejects on timeout or when the server closes. */
  waitFor(
    match: (line: IrcLine) => boolean,
    what: string,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<IrcLine> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let scanned = from;
      const check = (): boolean => {
        for (; scanned < this.lines.length; scanned++) {
          const line = this.lines[scanned] as IrcLine;
          if (match(line)) {
            finish();
            resolve(line);
            return true;
          }
        }
        if (this.closedError) {
          finish();
          reject(new Error(`waiting for ${what}: ${this.closedError.message}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        const tail = this.lines
          .slice(-8)
          .map((l) => l.raw)
          .join("\n  ");
        reject(new Error(`timed out waiting for ${what}; last lines:\n  ${tail}`));
      }, timeoutMs);
      const waiter = () => void check();
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /** NICK/USER, then waits for 001 and the end of the MOTD; returns the nick the server gave. */
  async register(nick: string, timeoutMs = 10_000): Promise<string> {
    const from = this.mark();
    this.send(`NICK ${nick}`);
    this.send(`USER ${nick} 0 * :${nick}`);
    const welcome = await this.waitFor(
      (l) => l.command === "001" || l.command === "433" || l.command === "432",
      "001 welcome",
      { from, timeoutMs },
    );
    if (welcome.command !== "001") throw new Error(`registration refused: ${welcome.raw}`);
    // the burst goes on until the end of the MOTD (376, or 422 without one)
    await this.waitFor((l) => l.command === "376" || l.command === "422", "end of MOTD", {
      from,
      timeoutMs,
    });
    return welcome.params[0] ?? nick;
  }

  /** QUIT, then closes (without waiting long for the server). */
  async close(): Promise<void> {
    if (!this.socket.destroyed && !this.closedError) {
      try {
        this.send("QUIT :bye");
      } catch {
        // already gone
      }
      await Promise.race([
        new Promise<void>((r) => this.socket.once("close", () => r())),
        new Promise<void>((r) => setTimeout(r, 1_000).unref()),
      ]);
    }
    this.socket.destroy();
  }
}
