import { timingSafeEqual } from "node:crypto";
import type { RequestListener, ServerResponse } from "node:http";
import { AccountError, AccountStoreError } from "./accounts";
import type { ErgoIrcServer } from "./server";

/**
 * ergo's HTTP API (docs/API.md, ergo ≥ 2.16; /v1/whois since 2.19): every request is a
 * POST with a JSON body and `Authorization: Bearer <token>`. A bad or missing token is
 * `401 Unauthorized`, undecodable JSON `400`, an unknown path `404`, another method `405`.
 * A 200 carries JSON with `success`; empty fields are omitted as Go's `omitempty` does.
 */

type Json = Record<string, unknown>;

/** Endpoints whose request body ergo ignores (it may be empty). */
const BODY_IGNORED = new Set(["/v1/status", "/v1/list", "/v1/ns/list", "/v1/account_list"]);

function tokenMatches(header: string | undefined, tokens: readonly string[]): boolean {
  if (!header) return false;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") return false;
  const provided = Buffer.from(header.slice(space + 1));
  return tokens.some((t) => {
    const expected = Buffer.from(t);
    return expected.length === provided.length && timingSafeEqual(expected, provided);
  });
}

/** IRCv3 timestamp format, as ergo formats `registeredAt` / `start_time`. */
function ircv3Time(date: Date): string {
  return date.toISOString();
}

function str(body: Json, key: string): string {
  const v = body[key];
  return typeof v === "string" ? v : "";
}

export function createApiHandler(irc: ErgoIrcServer, tokens: readonly string[]): RequestListener {
  const accounts = irc.accounts;
  const routes: Record<string, (body: Json) => Promise<Json> | Json> = {
    "/v1/check_auth": async (body) => {
      const accountName = str(body, "accountName");
      const passphrase = str(body, "passphrase");
      if (accountName === "" || passphrase === "") return { success: false };
      try {
        const account = await accounts.authenticate(accountName, passphrase);
        return { success: true, accountName: account.name };
      } catch {
        return { success: false };
      }
    },
    "/v1/ns/saregister": async (body) => {
      try {
        await accounts.saregister(str(body, "accountName"), str(body, "passphrase"));
        return { success: true };
      } catch (err) {
        const text = err instanceof AccountStoreError ? err.text : String(err);
        const errorCode =
          text === AccountError.alreadyRegistered || text === AccountError.nameReserved
            ? "ACCOUNT_EXISTS"
            : text === AccountError.badPassphrase
              ? "INVALID_PASSPHRASE"
              : "UNKNOWN_ERROR";
        return { success: false, error: text, errorCode };
      }
    },
    "/v1/ns/passwd": async (body) => {
      try {
        await accounts.setPassword(str(body, "accountName"), str(body, "passphrase"));
        return { success: true };
      } catch (err) {
        const text = err instanceof AccountStoreError ? err.text : "";
        const errorCode =
          text === AccountError.doesNotExist
            ? "ACCOUNT_DOES_NOT_EXIST"
            : text === AccountError.badPassphrase
              ? "INVALID_PASSPHRASE"
              : "UNKNOWN_ERROR";
        return { success: false, errorCode };
      }
    },
    "/v1/ns/info": (body) => {
      const accountName = str(body, "accountName");
      if (accountName === "") return { success: false, errorCode: "INVALID_REQUEST" };
      const account = accounts.get(accountName);
      if (!account) return { success: false };
      const response: Json = { success: true, accountName: account.name };
      if (account.email) response.email = account.email;
      response.registeredAt = ircv3Time(account.registeredAt);
      return response;
    },
    "/v1/ns/list": () => {
      const list = accounts.list().map((a) => ({ success: true, accountName: a.name }));
      return { success: true, accounts: list, totalCount: list.length };
    },
    "/v1/whois": (body) => {
      const user = irc.findUser(str(body, "nickname"));
      if (!user) return { success: true, present: false };
      const response: Json = {
        success: true,
        present: true,
        nickname: user.nick,
        username: user.username,
        hostname: user.hostname,
        realname: user.realname,
        account: user.account?.name ?? "",
        modes: user.modeString,
      };
      if (user.away) response.away = user.away;
      response.channels = [...user.channels].map((c) => {
        const m = c.members.get(user);
        const entry: Json = { name: c.name };
        const mode = m?.op ? "o" : m?.voice ? "v" : "";
        if (mode) entry.mode = mode;
        entry.join_time = ircv3Time(m?.joinedAt ?? c.createdAt);
        return entry;
      });
      response.session_count = user.sessions.size;
      return response;
    },
    "/v1/status": () => {
      const users = [...irc.users.values()];
      return {
        success: true,
        version: irc.config.version,
        go_version: "go1.22.0",
        start_time: ircv3Time(irc.createdAt),
        users: {
          total: users.length,
          invisible: users.filter((u) => u.modes.has("i")).length,
          operators: users.filter((u) => u.oper).length,
          unknown: [...irc.sessions].filter((s) => !s.user).length,
          max: irc.maxUsers,
        },
        channels: irc.channels.size,
        servers: 1,
      };
    },
    "/v1/list": () => ({
      success: true,
      channels: [...irc.channels.values()].map((c) => ({
        name: c.name,
        hasKey: false,
        inviteOnly: false,
        secret: false,
        userCount: c.members.size,
        topic: c.topic,
        createdAt: ircv3Time(c.createdAt),
        registered: false,
      })),
    }),
  };
  // legacy names still accepted by ergo
  routes["/v1/saregister"] = routes["/v1/ns/saregister"] as (typeof routes)[string];
  routes["/v1/account_details"] = routes["/v1/ns/info"] as (typeof routes)[string];
  routes["/v1/account_list"] = routes["/v1/ns/list"] as (typeof routes)[string];

  const plain = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    res.end(text + "\n");
  };

  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        if (!tokenMatches(req.headers.authorization, tokens))
          return plain(res, 401, "Unauthorized");
        const path = new URL(req.url ?? "/", "http://api").pathname;
        const route = routes[path];
        if (!route) return plain(res, 404, "404 page not found");
        if (req.method !== "POST") return plain(res, 405, "Method Not Allowed");
        let body: Json = {};
        const raw = Buffer.concat(chunks).toString("utf8");
        if (!BODY_IGNORED.has(path)) {
          try {
            const parsed: unknown = JSON.parse(raw);
            body =
              parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
                ? (parsed as Json)
                : {};
          } catch (err) {
            return plain(
              res,
              400,
              `failed to deserialize json request: ${err instanceof Error ? err.message : String(err)}`,
            );
          }
        }
        const response = await route(body);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(response) + "\n");
      })().catch((err: unknown) => {
        if (!res.headersSent) plain(res, 500, String(err));
      });
    });
  };
}
