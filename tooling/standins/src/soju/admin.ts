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

/** How long replies wait in the outbox (see `accept`). */
const REPLY_FLUSH_DELAY_MS = 20;

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
    // Replies go through an outbox flushed a moment later, like soju's writer goroutine: a client
    // that half-closes before reading loses them (soju closes on EOF and drops what is queued).
    let outbox: string[] = [];
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(flushTimer);
      flushTimer = undefined;
      if (!closed && outbox.length > 0) socket.write(outbox.join(""));
      outbox = [];
    };
    const write = (message: Pick<IrcMessage, "prefix" | "command" | "params">) => {
      if (closed) return;
      outbox.push(`${formatIrcMessage(message)}\r\n`);
      flushTimer ??= setTimeout(flush, REPLY_FLUSH_DELAY_MS);
    };
    const close = () => {
      closed = true;
      clearTimeout(flushTimer);
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
              // v0.8.2+: keep regular IRC clients out, then close.
              write({ command: "ERROR", params: ["This is not a regular IRC server"] });
              flush();
              closed = true;
              socket.end();
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
      pending.push(...splitter.push(chunk));
      pump().catch((error: unknown) => {
        this.bouncer.config.log(`admin "@": ${errorText(error)}`);
        close();
      });
    });
  }
}
