import { NextResponse, type NextRequest } from "next/server";
import { env } from "~/env";
import {
  billingFormTargets,
  contentSecurityPolicy,
  newNonce,
  STRICT_TRANSPORT_SECURITY,
} from "~/server/auth/content-security-policy";
import {
  applySessionCookieUpdate,
  refreshedSessionCookie,
  requestCookieHeader,
  type SessionCookieUpdate,
} from "~/server/auth/session-cookie";

/**
 * Runs before every page and API route but tRPC's (Next 16's proxy, Node runtime):
 * - a per-request CSP nonce: set on the request's CSP header, where Next finds it and puts it on
 *   its scripts (every page is rendered per request for this: see app/layout.tsx);
 * - the session's role refresh (src/server/auth/role-refresh.ts). Here and not in
 *   `currentSession()`: server components cannot set cookies, and this is the one place in
 *   front of the pages that can rewrite the cookie — in the response for the browser and in
 *   the request for the page answering it now. The tRPC route does its own refresh
 *   (`refreshedRequestSession`): its JSON needs no CSP nonce, and the dashboard polls it;
 * - HSTS when the site is served over https.
 */
export async function proxy(req: NextRequest): Promise<NextResponse> {
  // eslint-disable-next-line no-restricted-properties -- NODE_ENV is inlined by Next at build time
  const dev = process.env.NODE_ENV === "development";
  const nonce = newNonce();
  const csp = contentSecurityPolicy(nonce, dev, billingFormTargets(stripeApiUrl()));
  const headers = new Headers(req.headers);
  headers.set("content-security-policy", csp);

  let update: SessionCookieUpdate = { kind: "none" };
  let https = false;
  try {
    https = env().AUTH_URL.startsWith("https://");
    // next-auth's own routes (sign-in, callback, sign-out) manage the cookie themselves.
    if (!req.nextUrl.pathname.startsWith("/api/auth/")) update = await refreshedSessionCookie(req);
  } catch (error) {
    // Left as it came: currentSession() still refuses a session whose roles are too old.
    console.error(`session refresh failed: ${error instanceof Error ? error.message : "error"}`);
  }
  const cookie = requestCookieHeader(update, req);
  if (cookie !== null) {
    if (cookie) headers.set("cookie", cookie);
    else headers.delete("cookie");
  }

  const res = NextResponse.next({ request: { headers } });
  applySessionCookieUpdate(update, req.cookies, res);
  res.headers.set("content-security-policy", csp);
  if (https) res.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return res;
}

/** STRIPE_API_URL, or none when the settings cannot be read (the page reports that itself). */
function stripeApiUrl(): string | undefined {
  try {
    return env().STRIPE_API_URL;
  } catch {
    return undefined;
  }
}

export const config = {
  // Not for build assets and icons (no session, no HTML), the health check (works even when
  // the auth settings are broken), nor soju's auth http endpoint (machine to machine, no
  // cookie, no HTML; it runs on every IRC login and must stay cheap), nor Stripe's webhook
  // (signed, no cookie, no HTML), nor tRPC (JSON, polled by every open dashboard: the route
  // refreshes the session's roles itself, see app/api/trpc/[trpc]/route.ts).
  matcher: [
    "/((?!_next/static|_next/image|favicon.ico|icon.svg|apple-icon.png|api/healthz|api/soju/|api/stripe/webhook|api/trpc/).*)",
  ],
};
