import { randomBytes } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import { ErgoRejected, ErgoTimeout, ErgoUnavailable } from "../errors";

/**
 * checkCredentials over IRC: a separate, short-lived connection that does SASL PLAIN and quits
 * before registration ever completes (it never sends CAP END), so the check never shows up as a
 * client on the network, never takes the account's nick and never joins the user's own
 * sessions (multiclient). 903 → true, 904 → false (facts/ergo.md).
 */

export interface SaslProbeOptions {
  host: string;
  port: number;
  tls: boolean;
  rejectUnauthorized: boolean;
  account: string;
  password: string;
  timeoutMs: number;
  displayUrl: string;
}

const CHUNK = 400;

function parse(line: string): { command: string; params: string[] } {
  let rest = line;
  if (rest.startsWith("@")) rest = rest.slice(rest.indexOf(" ") + 1);
  if (rest.startsWith(":")) rest = rest.slice(rest.indexOf(" ") + 1);
  const params: string[] = [];
  let command = "";
  while (rest.length > 0) {
    rest = rest.replace(/^ +/, "");
    if (rest === "") break;
    if (command !== "" && rest.startsWith(":")) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    rest = space < 0 ? "" : rest.slice(space + 1);
    if (command === "") command = word.toUpperCase();
    else params.push(word);
  }
  return { command, params };
}

export function saslPlainProbe(o: SaslProbeOptions): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const socket = o.tls
      ? tls.connect({
          host: o.host,
          port: o.port,
          rejectUnauthorized: o.rejectUnauthorized,
          ...(net.isIP(o.host) ? {} : { servername: o.host }),
        })
      : net.connect({ host: o.host, port: o.port });
    socket.setEncoding("utf8");
    socket.setNoDelay(true);
    let settled = false;
    let buffer = "";
    let offered = "";
    let serverError: string | null = null;
    let socketError: string | null = null;

    const send = (line: string) => {
      if (!socket.destroyed) socket.write(line + "\r\n");
    };
    const finish = (outcome: { ok: boolean } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!socket.destroyed) {
        send("QUIT :irc.now credential check");
        socket.end();
        setTimeout(() => socket.destroy(), 1_000).unref();
      }
      if ("ok" in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    };
    const timer = setTimeout(
      () =>
        finish({
          error: new ErgoTimeout(`ergo did not answer the SASL check within ${o.timeoutMs} ms`),
        }),
      o.timeoutMs,
    );

    const authenticate = () => {
      const payload = Buffer.from(`\0${o.account}\0${o.password}`, "utf8").toString("base64");
      for (let i = 0; i < payload.length; i += CHUNK)
        send(`AUTHENTICATE ${payload.slice(i, i + CHUNK)}`);
      if (payload.length % CHUNK === 0) send("AUTHENTICATE +");
    };

    const onLine = (line: string) => {
      const { command, params } = parse(line);
      const last = params.at(-1) ?? "";
      switch (command) {
        case "PING":
          send(`PONG :${last}`);
          return;
        case "CAP": {
          const sub = (params[1] ?? "").toUpperCase();
          if (sub === "LS") {
            offered += " " + last;
            if (params[2] === "*") return; // more LS lines follow
            const caps = offered.split(" ").filter(Boolean);
            const sasl = caps.find((c) => c === "sasl" || c.startsWith("sasl="));
            if (!sasl) {
              finish({ error: new ErgoUnavailable("ergo does not offer SASL (cap sasl missing)") });
              return;
            }
            const mechanisms = sasl.includes("=")
              ? sasl.slice(5).toUpperCase().split(",")
              : ["PLAIN"];
            if (!mechanisms.includes("PLAIN")) {
              finish({ error: new ErgoUnavailable("ergo does not offer SASL PLAIN") });
              return;
            }
            send("CAP REQ :sasl");
          } else if (sub === "ACK" && last.split(" ").includes("sasl")) {
            send("AUTHENTICATE PLAIN");
          } else if (sub === "NAK") {
            finish({ error: new ErgoUnavailable("ergo refused CAP REQ sasl") });
          }
          return;
        }
        case "AUTHENTICATE":
          if (params[0] === "+") authenticate();
          return;
        case "903":
          finish({ ok: true });
          return;
        case "904":
        case "902":
          finish({ ok: false });
          return;
        case "905":
          finish({ error: new ErgoRejected("the SASL payload is too long for ergo") });
          return;
        case "906":
        case "907":
          finish({
            error: new ErgoUnavailable(`ergo aborted the SASL check (${command} ${last})`),
          });
          return;
        case "ERROR":
          serverError = last;
          return;
      }
    };

    socket.on(o.tls ? "secureConnect" : "connect", () => {
      const nick = `irc-now-chk-${randomBytes(4).toString("hex")}`;
      send("CAP LS 302");
      send(`NICK ${nick}`);
      send("USER irc-now 0 * :irc.now credential check");
    });
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line !== "") onLine(line);
        if (settled) return;
      }
      if (buffer.length > 64 * 1024)
        finish({ error: new ErgoUnavailable("ergo sent an overlong line") });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      socketError = err.code ? `${err.code} ${err.message}` : err.message;
    });
    socket.on("close", () => {
      const reason = serverError ?? socketError ?? "connection closed";
      finish({
        error: new ErgoUnavailable(
          `SASL check at ${o.displayUrl} failed before an answer: ${reason}`,
        ),
      });
    });
  });
}
