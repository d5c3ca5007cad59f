import { chmod, mkdir, rm } from "node:fs/promises";
import net from "node:net";
import { dirname } from "node:path";
import { errorText, type Bouncer } from "./bouncer";
import {
  formatIrcMessage,
  IrcParseFailure,
  LineSplitter,
  parseIrcLine,
  type IrcMessage,
} from "./irc";
import { handleServiceText } from "./service";

const PROXY_V2_SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

/**
 * What follows a PROXY protocol header at the start of `data` (v1 `PROXY …\r\n`, or v2); `data`
 * itself when there is none; null while the header is incomplete.
 */
function skipProxyHeader(data: Buffer): Buffer | null {
  if (data.subarray(0, 12).equals(PROXY_V2_SIGNATURE)) {
    if (data.length < 16) return null;
    const end = 16 + data.readUInt16BE(14);
    return data.length < end ? null : data.subarray(end);
  }
  if (data.subarray(0, 6).toString("latin1") === "PROXY ") {
    const lf = data.indexOf(0x0a);
    return lf < 0 ? null : data.subarray(lf + 1);
  }
  return data;
}

/** Event-loop turns a reply waits in the outbox (see `accept`). */
const FLUSH_TURNS = 3;

/**
 * soju's `unix+admin://` listener (Server.HandleAdmin, facts/soju.md §7): IRC lines without
 * registration; every connection runs BouncerServ commands as admin, strictly in order.
 */
export class AdminSocketServer {
  private readonly server: net.Server;
  private readonly connections = new Set<net.Socket>();
  private shuttingDown = false;

  private constructor(
    private readonly bouncer: Bouncer,
    readonly path: string,
  ) {
    // allowHalfOpen: a client's EOF is handled below (soju closes at once, dropping queued replies).
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  static async listen(bouncer: Bouncer, path: string): Promise<AdminSocketServer> {
    const admin = new AdminSocketServer(bouncer, path);
    await mkdir(dirname(path), { recursive: true });
    await rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      admin.server.once("error", reject);
      admin.server.listen(path, () => {
        admin.server.off("error", reject);
        resolve();
      });
    });
    // Like soju: chmod right after listening (racy in soju too); the file mode is the only protection.
    await chmod(path, 0o600);
    return admin;
  }

  /** Stops accepting and closes every connection (`ERROR :Server is shutting down` to late comers). */
  async close(): Promise<void> {
    this.shuttingDown = true;
    for (const socket of this.connections) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }

  private accept(socket: net.Socket): void {
    this.connections.add(socket);
    let closed = false;
    // Replies go through an outbox that soju's writer goroutine drains at once: flushed a few
    // turns of the event loop later (setImmediate), never on a timer. Real soju 0.10.1 (peers
    // kit) answered `user status` over its admin socket in 0.5 ms (p50 of 20), sojuctl in 5 ms;
    // an earlier 20 ms flush delay here made every command look 20 ms slower than soju is.
    // The turns keep soju's half-close pitfall: its read loop reads the client's EOF before the
    // writer goroutine runs and closes, dropping what is queued. Here the EOF of a client that
    // wrote and half-closed reaches us at most two poll phases after its data (its shutdown
    // waits for the write to complete), so the outbox waits FLUSH_TURNS check phases.
    let outbox: string[] = [];
    let flushing = false;
    const flush = (turnsLeft: number) => {
      if (turnsLeft > 1) {
        setImmediate(flush, turnsLeft - 1);
        return;
      }
      flushing = false;
      if (!closed && outbox.length > 0) socket.write(outbox.join(""));
      outbox = [];
    };
    const write = (message: Pick<IrcMessage, "prefix" | "command" | "params">) => {
      if (closed) return;
      outbox.push(`${formatIrcMessage(message)}\r\n`);
      if (!flushing) {
        flushing = true;
        setImmediate(flush, FLUSH_TURNS);
      }
    };
    const close = () => {
      closed = true;
      outbox = [];
      socket.destroy();
    };
    socket.on("close", () => {
      closed = true;
      this.connections.delete(socket);
    });
    socket.on("error", () => undefined);
    if (this.shuttingDown) {
      socket.end(
        `${formatIrcMessage({ command: "ERROR", params: ["Server is shutting down"] })}\r\n`,
      );
      return;
    }
    // EOF: soju calls conn.Close(), which throws away replies still queued (facts §7.1 half-close pitfall).
    socket.on("end", close);

    const prefix = this.bouncer.config.hostname;
    const splitter = new LineSplitter();
    const pending: string[] = [];
    let busy = false;
    /**
     * soju 0.10.1 (this build, seen) takes a PROXY protocol header on the admin socket: while the
     * first bytes could still be one (they start with `P` or CR), it reads nothing until it has 12
     * bytes (the v2 signature's length); a `PROXY …` v1 line or a v2 header is then skipped.
     */
    let head: Buffer | null = Buffer.alloc(0);
    const pump = async () => {
      if (busy) return;
      busy = true;
      try {
        while (!closed && pending.length > 0) {
          const line = pending.shift() ?? "";
          let message: IrcMessage;
          try {
            message = parseIrcLine(line);
          } catch (error) {
            if (!(error instanceof IrcParseFailure)) throw error;
            this.bouncer.config.log(`admin "@": failed to read IRC command: ${error.message}`);
            close();
            return;
          }
          switch (message.command) {
            case "CAP":
            case "NICK":
            case "USER":
            case "PASS":
              // v0.8.2+ keeps regular IRC clients out: soju queues `ERROR :This is not a regular IRC
              // server` and closes at once, which usually drops it (seen arriving 1 time in 6).
              close();
              return;
            case "BOUNCERSERV": {
              const text = message.params[0];
              if (text === undefined) {
                write({ command: "461", params: ["*", message.command, "Not enough parameters"] });
                break;
              }
              const output: string[] = [];
              let failure: string | undefined;
              await this.bouncer.queue.run(async () => {
                try {
                  await handleServiceText(
                    { bouncer: this.bouncer, admin: true, print: (t) => void output.push(t) },
                    text,
                  );
                } catch (error) {
                  failure = errorText(error);
                }
              });
              for (const t of output) write({ prefix, command: "PRIVMSG", params: ["*", t] });
              if (failure !== undefined)
                write({ prefix, command: "FAIL", params: [message.command, failure] });
              else write({ prefix, command: message.command, params: ["OK"] });
              break;
            }
            default:
              write({ prefix, command: "421", params: ["*", message.command, "Unknown command"] });
          }
        }
      } finally {
        busy = false;
      }
    };
    socket.on("data", (chunk: Buffer) => {
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        const first = head[0];
        if ((first === 0x50 || first === 0x0d) && head.length < 12) return;
        const rest = skipProxyHeader(head);
        if (rest === null) return; // a PROXY header still arriving
        head = null;
        chunk = rest;
      }
      pending.push(...splitter.push(chunk));
      pump().catch((error: unknown) => {
        this.bouncer.config.log(`admin "@": ${errorText(error)}`);
        close();
      });
    });
  }
}
