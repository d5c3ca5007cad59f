import { encode, getToken } from "next-auth/jwt";
import type { NextRequest, NextResponse } from "next/server";
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

/**
 * proxy.ts's half of the role refresh (role-refresh.ts): read the session cookie, refresh the
 * roles when due, and say how the cookie changes. Done in the proxy because it is the one place
 * that runs before both pages and the tRPC route and can set cookies (server components
 * cannot): the new cookie is handed on in the request, so this very request already sees it.
 */
export async function refreshedSessionCookie(req: NextRequest): Promise<SessionCookieUpdate> {
  const config = env();
  const token = await getToken({
    // Only the cookies (never an `Authorization: Bearer` JWT), as currentSession reads them.
    req: { cookies: req.cookies, headers: {} } as unknown as Parameters<typeof getToken>[0]["req"],
    secret: config.AUTH_SECRET,
    secureCookie: config.AUTH_URL.startsWith("https://"),
    decode: decodeSessionJwt,
  });
  if (!token?.userId) return { kind: "none" };
  const outcome: RefreshOutcome = await refreshRoles(token, roleRefreshConfig());
  switch (outcome.kind) {
    case "fresh":
      return { kind: "none" };
    case "kept":
      console.warn(`role refresh skipped, session kept within the outage grace: ${outcome.reason}`);
      return { kind: "none" };
    case "ended":
      return { kind: "clear", reason: outcome.reason };
    case "refreshed": {
      const value = await encode({
        token: outcome.token,
        secret: config.AUTH_SECRET,
        maxAge: SESSION_MAX_AGE_S,
      });
      return { kind: "set", cookies: sessionCookieChunks(sessionCookieName(), value) };
    }
  }
}

/**
 * Apply an update to the request (what the page or route reads) and the response (what the
 * browser keeps); stale chunks of the old cookie are removed from both.
 */
export function applySessionCookieUpdate(
  update: SessionCookieUpdate,
  req: NextRequest,
  res: NextResponse,
): void {
  if (update.kind === "none") return;
  const name = sessionCookieName();
  const secure = name.startsWith("__Secure-");
  const keep = new Set(update.kind === "set" ? update.cookies.map((c) => c.name) : []);
  for (const cookie of req.cookies.getAll()) {
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
