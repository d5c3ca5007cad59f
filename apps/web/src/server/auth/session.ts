import "server-only";
import { cookies } from "next/headers";
import type { Session } from "next-auth";
import { getToken, type JWT } from "next-auth/jwt";
import { env } from "~/env";
import { accountsDb } from "../db";
import { authOptions, sessionFromToken } from "./options";
import { sessionUsable } from "./role-refresh";
import { sessionsValidAfter, signedInAfterCutoff } from "./session-cutoff";

/**
 * The signed-in user's session in a server component or route, or null.
 *
 * Reads the session cookie with next-auth's own `getToken` (cookie name, chunked cookies,
 * decryption with AUTH_SECRET, expiry: the same checks as `getServerSession`) and builds the
 * session as next-auth's session callback does, without running next-auth's request pipeline.
 *
 * The roles' refresh is not done here: server components cannot set cookies, so proxy.ts
 * refreshes the cookie before the request reaches the page or the tRPC route (and hands the new
 * one on in the request). Here a token is only checked: its roles are fresh or within the
 * outage grace (a request that somehow skipped the proxy cannot use stale roles), and it was
 * signed in after the user's last sign-out (`users.sessions_valid_after`).
 */
export async function currentSession(): Promise<Session | null> {
  const token = await sessionToken();
  if (!token?.userId) return null;
  if (!sessionUsable(token, env().AUTH_ROLE_REFRESH_S)) return null;
  if (!(await stillSignedIn(token))) return null;
  const expires = new Date(
    typeof token.exp === "number" ? token.exp * 1000 : Date.now(),
  ).toISOString();
  return sessionFromToken(token, expires);
}

async function sessionToken(): Promise<JWT | null> {
  return getToken({
    // Only the cookies: getToken would also take an `Authorization: Bearer` JWT, which
    // getServerSession never did.
    req: { cookies: await cookies(), headers: {} } as unknown as Parameters<
      typeof getToken
    >[0]["req"],
    secret: authOptions().secret,
    // next-auth names the cookie `__Secure-…` when its URL is https (as getServerSession does).
    secureCookie: env().AUTH_URL.startsWith("https://"),
  });
}

/** Not cut off by a sign-out; an unreachable DB counts as signed out (logged), never as in. */
async function stillSignedIn(token: JWT): Promise<boolean> {
  try {
    const validAfter = await sessionsValidAfter(accountsDb(), token.userId!);
    return validAfter !== undefined && signedInAfterCutoff(token.signedInAt, validAfter);
  } catch (error) {
    console.error(
      `session check failed, treating the request as signed out: ${(error as Error).message}`,
    );
    return false;
  }
}
