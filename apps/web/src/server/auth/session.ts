import "server-only";
import { cookies } from "next/headers";
import type { Session } from "next-auth";
import type { JWT } from "next-auth/jwt";
import { env } from "~/env";
import type { accounts } from "@irc-now/db";
import { accountsDb } from "../db";
import { userById } from "../domain/users";
import { sessionFromToken } from "./options";
import { sessionUsable } from "./role-refresh";
import { signedInAfterCutoff } from "./session-cutoff";
import {
  refreshedSession,
  sessionTokenFrom,
  type RequestCookieList,
  type SessionCookieUpdate,
} from "./session-cookie";

/**
 * The signed-in user's session in a server component or route, or null.
 *
 * Reads the session cookie with next-auth's own `getToken` (`sessionTokenFrom`: cookie name,
 * chunked cookies, decryption with AUTH_SECRET, expiry: the checks of `getServerSession`) and
 * builds the session as next-auth's session callback does, without next-auth's request pipeline.
 *
 * The roles' refresh is not done here: server components cannot set cookies, so proxy.ts
 * refreshes the cookie before the request reaches the page (and hands the new one on in the
 * request); the tRPC route, which the proxy skips, uses {@link refreshedRequestSession}. Here a
 * token is only checked: its roles are fresh or within the outage grace (a request that somehow
 * skipped the proxy cannot use stale roles), and it was signed in after the user's last
 * sign-out (`users.sessions_valid_after`).
 */
export async function currentSession(): Promise<Session | null> {
  return (await currentSignedIn())?.session ?? null;
}

/**
 * {@link currentSession} with the user row its sign-out check read (this request's read, so as
 * fresh as a second one): the tRPC route hands it to `protectedProcedure`, which would
 * otherwise read the same row again.
 */
export async function currentSignedIn(): Promise<{
  session: Session;
  user: accounts.User;
} | null> {
  const session = await sessionFromCookie();
  if (!session) return null;
  const user = await signedInUser(session);
  return user ? { session, user } : null;
}

/**
 * The session the cookie carries (decoded, expiry checked, roles fresh or within the grace),
 * before the user row is read. The tRPC route's context is the same after the role refresh
 * ({@link refreshedRequestSession}); every procedure that needs a signed-in user then checks the
 * row: `protectedProcedure` with {@link signedInUser}, `bouncer.mine` with the row it reads in
 * the same statement as the projection.
 */
export async function sessionFromCookie(): Promise<Session | null> {
  return sessionOfToken(await sessionToken());
}

/**
 * The tRPC route's session. proxy.ts does not run for /api/trpc (a JSON answer needs no CSP
 * nonce, and the proxy cost each dashboard poll about 0.3 ms of CPU), so the route refreshes the
 * roles itself, as the proxy does for pages: the session comes from the refreshed token (or is
 * null when the refresh ended it), and `update` is the cookie change for the response
 * (`withSessionCookieUpdate`). `cookies` is the request's cookie list it was read from.
 */
export async function refreshedRequestSession(): Promise<{
  session: Session | null;
  update: SessionCookieUpdate;
  cookies: RequestCookieList;
}> {
  const jar = await cookies();
  try {
    const { token, update } = await refreshedSession(jar);
    return { session: sessionOfToken(token), update, cookies: jar };
  } catch (error) {
    // As proxy.ts does: the cookie is left as it came, and sessionFromCookie still refuses a
    // session whose roles are too old.
    console.error(`session refresh failed: ${error instanceof Error ? error.message : "error"}`);
    return { session: await sessionFromCookie(), update: { kind: "none" }, cookies: jar };
  }
}

/** A decoded token as a session: expiry checked by the decoding, roles fresh or within the grace. */
function sessionOfToken(token: JWT | null): Session | null {
  if (!token?.userId) return null;
  if (!sessionUsable(token, env().AUTH_ROLE_REFRESH_S)) return null;
  const expires = new Date(
    typeof token.exp === "number" ? token.exp * 1000 : Date.now(),
  ).toISOString();
  return sessionFromToken(token, expires);
}

async function sessionToken(): Promise<JWT | null> {
  return sessionTokenFrom(await cookies());
}

/**
 * The session's user, when still one and not cut off by a sign-out; an unreachable DB counts as
 * signed out (logged), never as in.
 */
export async function signedInUser(session: Session): Promise<accounts.User | null> {
  try {
    const user = await userById(accountsDb(), session.user.id);
    return user && signedInAfterCutoff(session.signedInAt, user.sessionsValidAfter) ? user : null;
  } catch (error) {
    console.error(
      `session check failed, treating the request as signed out: ${(error as Error).message}`,
    );
    return null;
  }
}
