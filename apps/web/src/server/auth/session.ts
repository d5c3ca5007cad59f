import "server-only";
import { cookies } from "next/headers";
import type { Session } from "next-auth";
import { getToken } from "next-auth/jwt";
import { env } from "~/env";
import { authOptions, sessionFromToken } from "./options";

/**
 * The signed-in user's session in a server component or route, or null.
 *
 * Reads the session cookie with next-auth's own `getToken` (cookie name, chunked cookies,
 * decryption with AUTH_SECRET, expiry: the same checks as `getServerSession`) and builds the
 * session as next-auth's session callback does. `getServerSession` would also run next-auth's
 * request pipeline (CSRF and callback-URL cookies) and re-encrypt the JWT to extend it: work
 * thrown away, because without req/res it drops the cookies it makes (so sessions were never
 * extended here before either: they last `maxAge` from sign-in); getToken costs about a sixth
 * of its CPU. The jwt callback is not run: it acts only at sign-in (`account` and `profile`
 * set); if it ever refreshes tokens, call it here too.
 */
export async function currentSession(): Promise<Session | null> {
  const options = authOptions();
  const token = await getToken({
    // Only the cookies: getToken would also take an `Authorization: Bearer` JWT, which
    // getServerSession never did.
    req: { cookies: await cookies(), headers: {} } as unknown as Parameters<
      typeof getToken
    >[0]["req"],
    secret: options.secret,
    // next-auth names the cookie `__Secure-…` when its URL is https (as getServerSession does).
    secureCookie: env().AUTH_URL.startsWith("https://"),
  });
  if (!token?.userId) return null;
  const expires = new Date(
    typeof token.exp === "number" ? token.exp * 1000 : Date.now(),
  ).toISOString();
  return sessionFromToken(token, expires);
}
