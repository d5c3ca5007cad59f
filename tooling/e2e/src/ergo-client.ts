import { connect } from "node:net";

/**
 * Registers an ergo account straight on the network, as staff or a bot that was there before
 * irc.now would have: an oper session of its own (not the portal worker's) sends
 * `NS SAREGISTER`. Resolves with NickServ's reply text.
 */
export async function saregister(options: {
  ircUrl: string;
  operName: string;
  operPassword: string;
  account: string;
  password: string;
  nick?: string;
}): Promise<string> {
  const url = new URL(options.ircUrl);
  const nick = options.nick ?? "e2e-staff";
  const socket = connect(Number(url.port || 6667), url.hostname);
  socket.setEncoding("utf8");
  let buffer = "";
  const seen: string[] = [];
  const waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\r\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line.startsWith("PING")) socket.write(`PONG${line.slice(4)}\r\n`);
      seen.push(line);
      for (const w of [...waiters])
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  });
  const failed = new Promise<never>((_, reject) => {
    socket.once("error", reject);
    setTimeout(
      () => reject(new Error(`ergo did not answer in time; it said:\n${seen.join("\n")}`)),
      15_000,
    ).unref();
  });
  const waitFor = (test: (line: string) => boolean) =>
    Promise.race([new Promise<string>((resolve) => waiters.push({ test, resolve })), failed]);
  const send = (line: string) => socket.write(`${line}\r\n`);
  try {
    send(`NICK ${nick}`);
    send(`USER ${nick} 0 * :e2e`);
    await waitFor((l) => / 001 /.test(l));
    send(`OPER ${options.operName} ${options.operPassword}`);
    const oper = await waitFor((l) => / (381|464|491) /.test(l));
    if (!/ 381 /.test(oper)) throw new Error(`OPER refused: ${oper}`);
    send(`NS SAREGISTER ${options.account} ${options.password}`);
    const reply = await waitFor((l) => /^:NickServ!\S+ NOTICE /i.test(l));
    return reply.slice(reply.indexOf(" :", 1) + 2);
  } finally {
    send("QUIT");
    socket.end();
  }
}
