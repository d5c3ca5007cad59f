/**
 * IRCCloud stand-in: a real HTTP + WebSocket server on 127.0.0.1 speaking the shapes of
 * facts/irccloud.md — formtoken, login (with its failure messages), /config, the WebSocket
 * stream (`auth` frame or cookie, `header`, `stat_user`, `oob_include`, `set_shard`), and the
 * gzip OOB array with makeserver/makebuffer/channel_init/backlog_complete. What it leaves out:
 * docs/stand-ins.md.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { WebSocketServer, type WebSocket } from "ws";
import { defaultIrccloudUsers, type IrccloudUserSeed } from "./accounts";

export * from "./accounts";

export interface IrccloudStandinOptions {
  port?: number;
  users?: IrccloudUserSeed[];
  /** Failed logins of one email before every login of it answers `rate_limited` (5). */
  maxFailures?: number;
}

export interface IrccloudStandin {
  url: string;
  /** Every session cookie handed out (tests search logs and DB dumps for them). */
  readonly sessions: readonly string[];
  /** Logins answered, successful or not. */
  readonly loginAttempts: number;
  /** Streams opened (WebSocket connections). */
  readonly streams: number;
  /** Every login answers `rate_limited` while true. */
  rateLimited: boolean;
  stop(): Promise<void>;
}

interface Session {
  user: IrccloudUserSeed;
  /** The stream path this session is for (`/` or a shard's `/websocket/N`). */
  path: string;
}

export async function startIrccloudStandin(
  options: IrccloudStandinOptions = {},
): Promise<IrccloudStandin> {
  const users = options.users ?? defaultIrccloudUsers();
  const maxFailures = options.maxFailures ?? 5;
  const tokens = new Set<string>();
  const sessions = new Map<string, Session>();
  const oobKeys = new Map<string, { user: IrccloudUserSeed; session: string }>();
  const failures = new Map<string, number>();
  const sockets = new Set<WebSocket>();
  const timers = new Set<NodeJS.Timeout>();
  let url = "";
  let loginAttempts = 0;
  let streams = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
  const cookieSession = (req: IncomingMessage) =>
    /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const newSession = (user: IrccloudUserSeed, path: string) => {
    const id = randomBytes(16).toString("hex");
    sessions.set(id, { user, path });
    return id;
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const { pathname, searchParams } = new URL(req.url ?? "/", url);
    if (req.method === "POST" && pathname === "/chat/auth-formtoken") {
      const token = `${Date.now()}.${randomBytes(12).toString("hex")}`;
      tokens.add(token);
      return json(res, 200, { success: true, token });
    }
    if (req.method === "POST" && pathname === "/chat/login") {
      loginAttempts++;
      const form = new URLSearchParams(await readBody(req));
      const token = form.get("token") ?? "";
      // Bad/missing formtoken: IRCCloud's exact text is UNCONFIRMED (facts); "token" here.
      if (!tokens.has(token) || req.headers["x-auth-formtoken"] !== token)
        return json(res, 400, { success: false, message: "token" });
      tokens.delete(token);
      const email = (form.get("email") ?? "").toLowerCase();
      if (standin.rateLimited || (failures.get(email) ?? 0) >= maxFailures)
        return json(res, 400, { success: false, message: "rate_limited" });
      const user = users.find((u) => u.email.toLowerCase() === email);
      if (!user || user.password !== form.get("password")) {
        failures.set(email, (failures.get(email) ?? 0) + 1);
        return json(res, 401, { success: false, message: "auth" });
      }
      if (user.loginRefusal) return json(res, 400, { success: false, message: user.loginRefusal });
      const session = newSession(user, "/");
      return json(
        res,
        200,
        { success: true, session, uid: users.indexOf(user) + 1 },
        { "set-cookie": `session=${session}; Path=/; HttpOnly; Secure` },
      );
    }
    if (req.method === "GET" && pathname === "/config") {
      return json(res, 200, { socket_host: new URL(url).host, api_host: url });
    }
    if (req.method === "GET" && pathname === "/chat/oob-loader") {
      const entry = oobKeys.get(searchParams.get("key") ?? "");
      if (!entry || cookieSession(req) !== entry.session)
        return json(res, 401, { success: false, message: "auth" });
      const body = gzipSync(JSON.stringify(oobEvents(entry.user)));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      return res.end(body);
    }
    json(res, 404, { success: false, message: "not_found" });
  }

  /** The initial state: servers, their buffers, joined channels, then (maybe) the end marker. */
  function oobEvents(user: IrccloudUserSeed): unknown[] {
    const events: unknown[] = [];
    let eid = 1;
    user.networks.forEach((n, i) => {
      const cid = 1000 + i;
      events.push({
        bid: -1,
        eid: -1,
        type: "makeserver",
        cid,
        name: n.name ?? "",
        nick: n.nick,
        nickserv_nick: n.nick,
        nickserv_pass: n.nickserv_pass ?? "",
        realname: n.realname ?? "",
        hostname: n.hostname,
        port: n.port,
        away: "",
        disconnected: false,
        ssl: n.ssl,
        server_pass: n.server_pass ?? "",
        join_commands: "",
        status: "connected_ready",
        fail_info: {},
        ignores: [],
        order: i,
        ircserver: `hub${i}.${n.hostname}`,
        orgid: null,
      });
      const console = cid * 100;
      events.push({
        type: "makebuffer",
        cid,
        bid: console,
        eid: eid++,
        name: "*",
        buffer_type: "console",
        created: 1,
        archived: false,
        deferred: false,
        timeout: false,
      });
      n.channels.forEach((c, j) => {
        const bid = console + 1 + j;
        events.push({
          type: "makebuffer",
          cid,
          bid,
          eid: eid++,
          name: c.name,
          buffer_type: "channel",
          created: 1,
          archived: c.archived === true,
          deferred: false,
          timeout: false,
        });
        if (!c.archived)
          events.push({
            type: "channel_init",
            cid,
            bid,
            eid: -1,
            chan: c.name,
            topic: { text: `Welcome to ${c.name}`, time: 1, nick: "ChanServ" },
            mode: c.key ? "ntk" : "nt",
            ops: { add: c.key ? [{ mode: "k", param: c.key }] : [], remove: [] },
            members: [{ nick: n.nick, usermask: `${n.nick}@irccloud`, mode: "" }],
          });
      });
      events.push({
        type: "makebuffer",
        cid,
        bid: console + 99,
        eid: eid++,
        name: "friend",
        buffer_type: "conversation",
        created: 1,
        archived: false,
        deferred: false,
        timeout: false,
      });
    });
    if ((user.backlogComplete ?? "oob") === "oob")
      events.push({ type: "backlog_complete", bid: -1, eid: -1, cid: -1 });
    return events;
  }

  const wss = new WebSocketServer({ noServer: true });
  function stream(ws: WebSocket, path: string, headerSession: string | undefined) {
    streams++;
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    ws.on("error", () => undefined);
    let started = false;
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const begin = (sessionId: string) => {
      if (started) return;
      started = true;
      const session = sessions.get(sessionId);
      if (!session) {
        ws.send(JSON.stringify({ success: false, message: "auth" }));
        return ws.close();
      }
      const { user } = session;
      if (user.sharded && session.path === "/") {
        // The account lives on another shard: IRCCloud names it with a fresh session.
        const shardSession = newSession(user, "/websocket/2");
        ws.send(
          JSON.stringify({
            success: false,
            message: "set_shard",
            cookie: shardSession,
            websocket_path: "/websocket/2",
            api_host: url,
          }),
        );
        return ws.close();
      }
      if (path !== session.path) {
        ws.send(JSON.stringify({ success: false, message: "auth" }));
        return ws.close();
      }
      const frames: unknown[] = [
        {
          type: "header",
          time: Math.floor(Date.now() / 1000),
          idle_interval: 29000,
          streamid: randomBytes(4).toString("hex"),
          resumed: false,
          accrued: 0,
          bid: -1,
          eid: -1,
          cid: -1,
        },
        {
          type: "stat_user",
          id: users.indexOf(user) + 1,
          name: user.name ?? "",
          email: user.email,
          verified: true,
          num_connections: user.networks.length,
          num_active_connections: user.networks.length,
          limits_name: "unlimited",
          prefs: "{}",
          bid: -1,
          eid: -1,
          cid: -1,
        },
      ];
      if (user.stream !== "stall") {
        const key = randomBytes(12).toString("hex");
        oobKeys.set(key, { user, session: sessionId });
        frames.push({
          type: "oob_include",
          url: `/chat/oob-loader?key=${key}`,
          timeout: 30000,
          bid: -1,
          eid: -1,
          cid: -1,
        });
        if (user.backlogComplete === "socket")
          frames.push({ type: "backlog_complete", bid: -1, eid: -1, cid: -1 });
      }
      const delay = user.stream === "slow" ? (user.delayMs ?? 500) : 0;
      frames.forEach((frame, i) =>
        later(delay * (i + 1), () => ws.readyState === ws.OPEN && ws.send(JSON.stringify(frame))),
      );
    };
    ws.on("message", (data) => {
      try {
        const frame = JSON.parse(String(data)) as { _method?: string; cookie?: string };
        if (frame._method === "auth" && typeof frame.cookie === "string") begin(frame.cookie);
      } catch {
        /* not JSON: ignored, like the real stream */
      }
    });
    if (headerSession) begin(headerSession);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => json(res, 500, { success: false, message: "internal" }));
  });
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", url).pathname;
    wss.handleUpgrade(req, socket, head, (ws) => stream(ws, path, cookieSession(req)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const standin: IrccloudStandin = {
    url,
    get sessions() {
      return [...sessions.keys()];
    },
    get loginAttempts() {
      return loginAttempts;
    },
    get streams() {
      return streams;
    },
    rateLimited: false,
    async stop() {
      for (const t of timers) clearTimeout(t);
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return standin;
}
