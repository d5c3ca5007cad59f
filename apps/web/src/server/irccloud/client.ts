import { gunzipSync } from "node:zlib";
import WebSocket from "ws";
import { z } from "zod";
import { IrccloudError, loginFailure, timedOut, unavailable, unexpected } from "./errors";
import type { IrccloudAccount } from "./model";
import { accountFromEvents } from "./parse";

/**
 * IRCCloud's sign-in and initial state stream (facts/irccloud.md): formtoken → login → config →
 * WebSocket (`auth` frame, `set_shard` hops) → `oob_include` (gzip JSON) → `backlog_complete`
 * (in the OOB array or on the socket), all under one deadline. The credentials and the session
 * live only in this call's variables: nothing here logs, and every error is one of the fixed
 * texts of ./errors.
 */
export interface IrccloudFetchOptions {
  /** `https://www.irccloud.com` (IRCCLOUD_URL). */
  baseUrl: string;
  email: string;
  password: string;
  /** The whole fetch, sign-in to the last event. */
  deadlineMs: number;
  signal?: AbortSignal;
}

const DEFAULT_API_HOST = "https://api.irccloud.com";
const MAX_SHARD_HOPS = 3;
/** The OOB array of a large account is a few MB; refuse anything absurd. */
const MAX_OOB_BYTES = 64 * 1024 * 1024;
const USER_AGENT = "irc.now-import/1 (+https://irc.now)";

const formtokenReply = z.object({ success: z.literal(true), token: z.string().min(1).max(512) });
const loginReply = z.object({
  success: z.boolean(),
  session: z.string().min(1).max(512).optional(),
  message: z.unknown().optional(),
  api_host: z.string().url().optional(),
  websocket_path: z.string().startsWith("/").optional(),
});
const configReply = z.object({
  socket_host: z.string().min(1).max(255).optional(),
  api_host: z.string().url().optional(),
});
const shardFrame = z.object({
  cookie: z.string().min(1).max(512),
  websocket_path: z.string().startsWith("/").optional(),
  api_host: z.string().url().optional(),
});

interface StreamTarget {
  session: string;
  apiHost: string;
  socketHost: string;
  path: string;
}

export async function fetchIrccloudAccount(
  options: IrccloudFetchOptions,
): Promise<IrccloudAccount> {
  const deadline = AbortSignal.timeout(options.deadlineMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    return await fetchWithin(options, signal);
  } catch (error) {
    if (deadline.aborted) throw timedOut(Math.round(options.deadlineMs / 1000));
    if (error instanceof IrccloudError) throw error;
    // Raw network errors name hosts and codes, never our secrets, but users get plain words.
    throw unavailable();
  }
}

async function fetchWithin(
  options: IrccloudFetchOptions,
  signal: AbortSignal,
): Promise<IrccloudAccount> {
  const base = options.baseUrl.replace(/\/+$/, "");
  const headers = { "user-agent": USER_AGENT, accept: "application/json" };

  const tokenRes = await fetch(`${base}/chat/auth-formtoken`, {
    method: "POST",
    headers: { ...headers, "content-length": "0" },
    signal,
  });
  const token = formtokenReply.safeParse(await jsonOf(tokenRes));
  if (!token.success) {
    if (tokenRes.status >= 500) throw unavailable();
    throw unexpected("no sign-in token");
  }

  const loginRes = await fetch(`${base}/chat/login`, {
    method: "POST",
    headers: {
      ...headers,
      "content-type": "application/x-www-form-urlencoded",
      "x-auth-formtoken": token.data.token,
    },
    body: new URLSearchParams({
      email: options.email,
      password: options.password,
      token: token.data.token,
    }).toString(),
    signal,
  });
  const login = loginReply.safeParse(await jsonOf(loginRes));
  if (!login.success) {
    if (loginRes.status >= 500) throw unavailable();
    throw unexpected("sign-in reply");
  }
  if (!login.data.success || !login.data.session)
    throw loginFailure(login.data.message, loginRes.status);

  const configRes = await fetch(`${base}/config`, { headers, signal }).catch(() => null);
  const config = configReply.safeParse(configRes?.ok ? await jsonOf(configRes) : {});
  const apiHost = (
    login.data.api_host ??
    (config.success ? config.data.api_host : undefined) ??
    DEFAULT_API_HOST
  ).replace(/\/+$/, "");
  let target: StreamTarget = {
    session: login.data.session,
    apiHost,
    socketHost:
      login.data.api_host !== undefined
        ? new URL(apiHost).host
        : ((config.success ? config.data.socket_host : undefined) ?? new URL(apiHost).host),
    path: login.data.websocket_path ?? "/",
  };

  for (let hop = 0; hop <= MAX_SHARD_HOPS; hop++) {
    const result = await streamOnce(target, signal);
    if (result.kind === "done") return accountFromEvents(result.events);
    target = result.target;
  }
  throw unexpected("too many server changes");
}

async function jsonOf(res: Response): Promise<unknown> {
  try {
    return JSON.parse(await res.text()) as unknown;
  } catch {
    return undefined;
  }
}

/** GET the OOB URL with the session; the body is gzip JSON (decoded here when fetch did not). */
async function fetchOob(
  target: StreamTarget,
  url: string,
  signal: AbortSignal,
): Promise<unknown[]> {
  const absolute = new URL(url, `${target.apiHost}/`);
  const res = await fetch(absolute, {
    headers: {
      cookie: `session=${target.session}`,
      "accept-encoding": "gzip",
      "user-agent": USER_AGENT,
    },
    signal,
  });
  if (!res.ok) throw res.status >= 500 ? unavailable() : unexpected(`initial state ${res.status}`);
  let bytes = Buffer.from(await res.arrayBuffer());
  if (bytes.length > MAX_OOB_BYTES) throw unexpected("initial state too large");
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_OOB_BYTES });
    } catch {
      throw unexpected("initial state not readable");
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw unexpected("initial state not JSON");
  }
  if (!Array.isArray(parsed)) throw unexpected("initial state not a list");
  return parsed;
}

type StreamResult = { kind: "done"; events: unknown[] } | { kind: "shard"; target: StreamTarget };

function streamOnce(target: StreamTarget, signal: AbortSignal): Promise<StreamResult> {
  signal.throwIfAborted();
  const scheme = target.apiHost.startsWith("https:") ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${target.socketHost}${target.path}`, {
    headers: {
      cookie: `session=${target.session}`,
      origin: new URL(target.apiHost).origin,
      "user-agent": USER_AGENT,
    },
    maxPayload: MAX_OOB_BYTES,
  });
  return new Promise<StreamResult>((resolve, reject) => {
    const before: unknown[] = [];
    const after: unknown[] = [];
    let oob: Promise<unknown[]> | undefined;
    let oobEvents: unknown[] | undefined;
    let complete = false;
    let settled = false;

    const finish = (result: StreamResult | Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      ws.removeAllListeners();
      ws.on("error", () => undefined);
      ws.terminate();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const maybeDone = () => {
      if (!complete) return;
      if (oob && !oobEvents) return; // backlog_complete on the socket: wait for the OOB array
      finish({ kind: "done", events: [...before, ...(oobEvents ?? []), ...after] });
    };
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : unavailable());
    signal.addEventListener("abort", onAbort);

    ws.on("open", () => ws.send(JSON.stringify({ _method: "auth", cookie: target.session })));
    ws.on("error", () => finish(unavailable()));
    ws.on("close", () => finish(unavailable()));
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let event: unknown;
      try {
        event = JSON.parse(String(data));
      } catch {
        return;
      }
      if (typeof event !== "object" || event === null) return;
      const e = event as { type?: unknown; success?: unknown; message?: unknown; url?: unknown };
      if (e.success === false) {
        if (e.message === "set_shard") {
          const shard = shardFrame.safeParse(event);
          if (!shard.success) return finish(unexpected("server change"));
          const apiHost = (shard.data.api_host ?? target.apiHost).replace(/\/+$/, "");
          return finish({
            kind: "shard",
            target: {
              session: shard.data.cookie,
              apiHost,
              socketHost: shard.data.api_host ? new URL(apiHost).host : target.socketHost,
              path: shard.data.websocket_path ?? target.path,
            },
          });
        }
        return finish(unexpected("the stream refused the session"));
      }
      switch (e.type) {
        case "oob_include":
          if (typeof e.url !== "string") return finish(unexpected("initial state link"));
          oob = fetchOob(target, e.url, signal);
          oob.then(
            (events) => {
              oobEvents = events;
              if (events.some((x) => (x as { type?: unknown } | null)?.type === "backlog_complete"))
                complete = true;
              maybeDone();
            },
            (error: unknown) => finish(error instanceof Error ? error : unavailable()),
          );
          return;
        case "oob_timeout":
          return finish(
            new IrccloudError(
              "UNAVAILABLE",
              "IRCCloud took too long to prepare your data. Please try again in a minute.",
            ),
          );
        case "backlog_complete":
          complete = true;
          return maybeDone();
        default:
          (oob ? after : before).push(event);
      }
    });
  });
}
