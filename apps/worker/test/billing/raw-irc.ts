import net from "node:net";

/** A line-reading TCP client for an IRC server (test only). */
export class RawIrc {
  private buffer = "";
  private ended = false;
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(host: string, port: number): Promise<RawIrc> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => resolve(new RawIrc(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** The next line without CRLF, or null at EOF; throws after `timeoutMs` without one. */
  async readLine(timeoutMs = 15_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lf = this.buffer.indexOf("\n");
      if (lf !== -1) {
        const line = this.buffer.slice(0, lf).replace(/\r$/, "");
        this.buffer = this.buffer.slice(lf + 1);
        return line;
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
