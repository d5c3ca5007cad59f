import { encode, getToken, type JWT } from "next-auth/jwt";
import { NextResponse, type NextRequest } from "next/server";
import { env } from "~/env";
import { roleRefreshConfig, SESSION_MAX_AGE_S, sessionCookieName } from "./config";
import { refreshRoles, type RefreshOutcome } from "./role-refresh";
import { decodeSessionJwt } from "./session-jwt";

// next-auth v4's chunking (core/lib/cookie.js): a cookie is at most 4096 bytes with attributes.
const CHUNK_SIZE = 4096 - 163;

/** The session cookie(s) carrying `value`, split as next-auth splits them (`name`, or `name.0`…). */
export function sessionCookieChunks(
  name: string,
  value: string,
): { name: string; value: string }[] {
  const count = Math.max(1, Math.ceil(value.length / CHUNK_SIZE));
  if (count === 1) return [{ name, value }];
  return Array.from({ length: count }, (_, i) => ({
    name: `${name}.${i}`,
    value: value.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE),
  }));
}

export type SessionCookieUpdate =
  | { kind: "none" }
  | { kind: "set"; cookies: { name: string; value: string }[]; reason?: undefined }
  | { kind: "clear"; reason: string };

/** The request's cookies as next/server (`req.cookies`) and next/headers (`cookies()`) give them. */
export interface RequestCookieList {
  getAll(): { name: string; value: string }[];
}

/** A session token, its roles refreshed when due, and how the cookie must change for that. */
export interface RefreshedSession {
  /** The token this request uses: null when there is none or the refresh ended the session. */
  token: JWT | null;
  update: SessionCookieUpdate;
}

/**
 * Read the session cookie and refresh the roles when due (role-refresh.ts). Runs in front of
 * everything that reads a session: proxy.ts for the pages (the one place before them that can
 * set cookies: server components cannot), and the tRPC route itself, which the proxy skips.
 */
export async function refreshedSession(cookies: RequestCookieList): Promise<RefreshedSession> {
  const config = env();
  const token = await sessionTokenFrom(cookies);
  if (!token?.userId) return { token: null, update: { kind: "none" } };
  const outcome: RefreshOutcome = await refreshRoles(token, roleRefreshConfig());
  switch (outcome.kind) {
    case "fresh":
      return { token, update: { kind: "none" } };
    case "kept":
      console.warn(`role refresh skipped, session kept within the outage grace: ${outcome.reason}`);
      return { token, update: { kind: "none" } };
    case "ended":
      return { token: null, update: { kind: "clear", reason: outcome.reason } };
    case "refreshed": {
      const value = await encode({
        token: outcome.token,
        secret: config.AUTH_SECRET,
        maxAge: SESSION_MAX_AGE_S,
      });
      return {
        token: outcome.token,
        update: { kind: "set", cookies: sessionCookieChunks(sessionCookieName(), value) },
      };
    }
  }
}

/**
 * The session token the request's cookies carry, with next-auth's own `getToken` (cookie name,
 * chunked cookies) and our decoding (expiry checked). Only the cookies: getToken would also take
 * an `Authorization: Bearer` JWT, which getServerSession never did.
 */
export function sessionTokenFrom(cookies: RequestCookieList): Promise<JWT | null> {
  const config = env();
  return getToken({
    req: { cookies, headers: {} } as unknown as Parameters<typeof getToken>[0]["req"],
    secret: config.AUTH_SECRET,
    // next-auth names the cookie `__Secure-…` when its URL is https (as getServerSession does).
    secureCookie: config.AUTH_URL.startsWith("https://"),
    decode: decodeSessionJwt,
  });
}

/**
 * proxy.ts's half of the role refresh: how the cookie changes. The new cookie is handed on in
 * the request, so the page answering this very request already sees it.
 */
export async function refreshedSessionCookie(req: NextRequest): Promise<SessionCookieUpdate> {
  return (await refreshedSession(req.cookies)).update;
}

/**
 * Apply an update to the response (what the browser keeps): stale chunks of the old cookie, as
 * the request carried them, are removed. {@link requestCookieHeader} does the request's part.
 */
export function applySessionCookieUpdate(
  update: SessionCookieUpdate,
  requestCookies: RequestCookieList,
  res: NextResponse,
): void {
  if (update.kind === "none") return;
  const name = sessionCookieName();
  const secure = name.startsWith("__Secure-");
  const keep = new Set(update.kind === "set" ? update.cookies.map((c) => c.name) : []);
  for (const cookie of requestCookies.getAll()) {
    if ((cookie.name === name || cookie.name.startsWith(`${name}.`)) && !keep.has(cookie.name)) {
      res.cookies.set(cookie.name, "", {
        path: "/",
        maxAge: 0,
        httpOnly: true,
        sameSite: "lax",
        secure,
      });
    }
  }
  if (update.kind === "set") {
    for (const cookie of update.cookies) {
      res.cookies.set(cookie.name, cookie.value, {
        path: "/",
        maxAge: SESSION_MAX_AGE_S,
        httpOnly: true,
        sameSite: "lax",
        secure,
      });
    }
  }
}

/** The request's cookie header with the session cookie(s) replaced or removed. */
export function requestCookieHeader(update: SessionCookieUpdate, req: NextRequest): string | null {
  if (update.kind === "none") return null;
  const name = sessionCookieName();
  const others = req.cookies
    .getAll()
    .filter((c) => c.name !== name && !c.name.startsWith(`${name}.`));
  const session = update.kind === "set" ? update.cookies : [];
  return [...others, ...session].map((c) => `${c.name}=${c.value}`).join("; ");
}

/**
 * A route handler's response with the update applied (the tRPC route, which proxy.ts skips).
 * Unchanged when there is nothing to change: the common case costs nothing.
 */
export function withSessionCookieUpdate(
  update: SessionCookieUpdate,
  requestCookies: RequestCookieList,
  res: Response,
): Response {
  if (update.kind === "none") return res;
  const out = new NextResponse(res.body, res);
  applySessionCookieUpdate(update, requestCookies, out);
  return out;
}
