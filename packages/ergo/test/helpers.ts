import { randomBytes } from "node:crypto";
import net from "node:net";
import IRC from "irc-framework";
import type { ErgoLogger } from "../src/index";

export interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  obj: unknown;
  msg: string | undefined;
}

/** A pino-shaped logger that keeps every call, at every level. */
export function captureLogger(): { logger: ErgoLogger; records: LogRecord[]; text(): string } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj, msg });
    };
  return {
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    records,
    text: () => JSON.stringify(records),
  };
}

/** A fresh valid account/nick name. */
export function uniqueName(prefix = "u"): string {
  return `${prefix}${randomBytes(5).toString("hex")}`;
}

/** A distinctive password (no spaces), easy to look for in logs. */
export function makeSecret(label: string): string {
  return `${label}-S3cr3t-${randomBytes(9).toString("hex")}`;
}

/** Every place a secret could hide in a thrown value. */
export function errorTexts(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return [err.message, err.stack ?? "", JSON.stringify(err), String(err)].join("\n");
}

/** Awaits a promise that must reject; returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the promise to reject, but it resolved");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true (generous limit; not a timing assertion). */
export async function eventually(
  check: () => boolean,
  what: string,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

export interface IrcTestClient {
  nick: string;
  close(): Promise<void>;
}

/** An ordinary irc-framework client; logs into `account` with SASL PLAIN when given. */
export function connectClient(
  host: string,
  port: number,
  options: { nick: string; sasl?: { account: string; password: string } },
): Promise<IrcTestClient> {
  const client = new IRC.Client({
    host,
    port,
    nick: options.nick,
    username: "tester",
    gecos: "test client",
    auto_reconnect: false,
    ...(options.sasl ? { account: options.sasl } : {}),
  });
  return new Promise<IrcTestClient>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("test client did not register")), 10_000);
    client.on("registered", (event) => {
      clearTimeout(timer);
      const closed = new Promise<void>((r) => client.on("socket close", () => r()));
      resolve({
        nick: event.nick,
        close: async () => {
          client.quit("bye");
          await Promise.race([closed, sleep(2_000)]);
        },
      });
    });
    client.on("socket close", () => {
      clearTimeout(timer);
      reject(new Error("test client disconnected before registering"));
    });
    client.connect();
  });
}

export interface TestServer {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return address.port;
}

function serverWith(onSocket: (socket: net.Socket) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onSocket(socket);
  });
  return listen(server).then((port) => ({
    port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  }));
}

/** A TCP proxy to 127.0.0.1:`targetPort` that counts the connections made through it. */
export function countingProxy(targetPort: number): Promise<TestServer> {
  return serverWith((socket) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}

/**
 * `countingProxy` that also reports every line as it passes, in order: "→" towards ergo, "←"
 * from it.
 */
export function recordingProxy(
  targetPort: number,
  record: (direction: "→" | "←", line: string) => void,
): Promise<TestServer> {
  const lines = (direction: "→" | "←") => {
    let rest = "";
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString("utf8")).split("\r\n");
      rest = parts.pop() ?? "";
      for (const line of parts) record(direction, line);
    };
  };
  return serverWith((socket) => {
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort });
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.on("data", lines("→"));
    upstream.on("data", lines("←"));
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}

/** Accepts connections and never says a word. */
export function silentServer(): Promise<TestServer> {
  return serverWith(() => undefined);
}

/**
 * A scripted "ergo" that completes registration and accepts OPER, then never answers anything
 * else (NickServ, WHOIS, PING): every command of the oper session must time out.
 */
export function mutedAfterOperServer(): Promise<TestServer> {
  return serverWith((socket) => {
    socket.setEncoding("utf8");
    let buffer = "";
    let nick = "*";
    let gotUser = false;
    let welcomed = false;
    const send = (line: string) => socket.write(`:fake.test ${line}\r\n`);
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, i).replace(/\r$/, "");
        buffer = buffer.slice(i + 1);
        const [command = "", first = ""] = line.split(" ");
        if (command === "CAP" && first === "LS") send("CAP * LS :multi-prefix");
        else if (command === "CAP" && first === "REQ") send("CAP * ACK :multi-prefix");
        else if (command === "NICK") nick = first;
        else if (command === "USER") gotUser = true;
        else if (command === "OPER") send(`381 ${nick} :You are now an IRC operator`);
        if (!welcomed && gotUser && nick !== "*" && command !== "CAP") {
          welcomed = true;
          send(`001 ${nick} :Welcome`);
        }
      }
    });
  });
}

/** A port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
