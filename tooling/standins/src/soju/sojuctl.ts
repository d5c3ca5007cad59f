import { readFile } from "node:fs/promises";
import net from "node:net";
import { basename } from "node:path";
import { FlagError, GoFlagSet } from "./goflag";
import { formatIrcMessage, IrcParseFailure, LineSplitter, parseIrcLine } from "./irc";
import { sojuctlCommandText } from "./words";

export interface SojuctlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Where `-config <path>` leads: a socket path, or undefined when the file has no admin listener. */
export type ConfigResolver = (path: string) => Promise<string | undefined>;

const usage = "usage: sojuctl [-config path] <command>\n";
const noAdminListener = "no listen unix+admin directive found in config\n";

const errnoTexts: Record<string, string> = {
  ENOENT: "no such file or directory",
  ECONNREFUSED: "connection refused",
  EACCES: "permission denied",
  ENOTSOCK: "socket operation on non-socket",
};

/**
 * Reads a soju config file (scfg) for its `listen unix+admin://…` directive. v0.10.1 takes
 * host+path; an empty one means /run/soju/admin (facts §7.1).
 */
export async function adminSocketFromConfigFile(path: string): Promise<string | undefined> {
  const text = await readFile(path, "utf8");
  for (const raw of text.split("\n")) {
    const words = raw.trim().split(/\s+/);
    if (words[0] !== "listen") continue;
    const value = (words[1] ?? "").replace(/^"(.*)"$/, "$1");
    if (!value.startsWith("unix+admin://")) continue;
    const rest = value.slice("unix+admin://".length);
    return rest === "" ? "/run/soju/admin" : rest;
  }
  return undefined;
}

/**
 * `sojuctl [-config path] <command…>` (v0.10.1): Go flag parsing, every word through
 * strconv.Quote, one BOUNCERSERV line over the admin socket; PRIVMSG texts to stdout, a FAIL or a
 * numeric's text to stderr with exit 1 (no log timestamp since v0.9.0), OK → exit 0.
 * `argv` may start with the program name (`sojuctl` or a path ending in it).
 */
export async function runSojuctl(
  argv: readonly string[],
  resolveConfig: ConfigResolver,
): Promise<SojuctlResult> {
  let args = [...argv];
  if (args[0] !== undefined && basename(args[0]) === "sojuctl") args = args.slice(1);
  const fs = new GoFlagSet();
  const config = fs.string("config");
  let words: string[];
  try {
    words = fs.parse(args);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    if (error.message.startsWith("unsupported flag"))
      return { stdout: "", stderr: usage, exitCode: 0 };
    return { stdout: "", stderr: `${error.message}\n${usage}`, exitCode: 2 };
  }
  if (config.value === "") return { stdout: "", stderr: noAdminListener, exitCode: 1 };
  let socketPath: string | undefined;
  try {
    socketPath = await resolveConfig(config.value);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    const reason = errnoTexts[code] ?? (error instanceof Error ? error.message : String(error));
    return {
      stdout: "",
      stderr: `failed to load config file: open ${config.value}: ${reason}\n`,
      exitCode: 1,
    };
  }
  if (socketPath === undefined) return { stdout: "", stderr: noAdminListener, exitCode: 1 };
  return talk(socketPath, sojuctlCommandText(words));
}

function talk(socketPath: string, text: string): Promise<SojuctlResult> {
  return new Promise((resolve) => {
    let stdout = "";
    let done = false;
    let connected = false;
    const socket = net.connect({ path: socketPath });
    const finish = (stderr: string, exitCode: number) => {
      if (done) return;
      done = true;
      // Never half-close before the terminal line (facts §7.1): read it, then close.
      socket.destroy();
      resolve({ stdout, stderr, exitCode });
    };
    socket.on("connect", () => {
      connected = true;
      socket.write(`${formatIrcMessage({ command: "BOUNCERSERV", params: [text] })}\r\n`);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected) {
        const reason = errnoTexts[error.code ?? ""] ?? error.message;
        finish(
          `failed to connect to admin socket: dial unix ${socketPath}: connect: ${reason}\n`,
          1,
        );
      } else {
        finish(`read: ${error.message}\n`, 1);
      }
    });
    socket.on("close", () => finish("read: EOF\n", 1));
    const splitter = new LineSplitter();
    socket.on("data", (chunk: Buffer) => {
      for (const line of splitter.push(chunk)) {
        if (done) return;
        let message;
        try {
          message = parseIrcLine(line);
        } catch (error) {
          if (error instanceof IrcParseFailure) continue;
          throw error;
        }
        const last = message.params[message.params.length - 1] ?? "";
        if (message.command === "PRIVMSG") {
          stdout += `${message.params[1] ?? ""}\n`;
        } else if (message.command === "BOUNCERSERV" && message.params[0] === "OK") {
          finish("", 0);
        } else if (
          message.command === "FAIL" ||
          message.command === "ERROR" ||
          /^\d{3}$/.test(message.command)
        ) {
          finish(`${last}\n`, 1);
        }
      }
    });
  });
}
