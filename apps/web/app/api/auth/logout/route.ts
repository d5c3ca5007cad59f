import { getToken } from "next-auth/jwt";
import type { NextRequest } from "next/server";
import { env } from "~/env";
import { accountsDb } from "~/server/db";
import { endSessions } from "~/server/auth/session-cutoff";

export const dynamic = "force-dynamic";

/**
 * Sign-out that also ends the Keycloak session (RP-initiated logout with id_token_hint).
 * A form POST from our own pages only: requests from another origin are refused (CSRF).
 */
export async function POST(req: NextRequest): Promise<Response> {
  const config = env();
  const origin = req.headers.get("origin");
  if (origin !== new URL(config.AUTH_URL).origin) {
    return Response.json(
      { error: "Cross-site sign-out requests are not allowed." },
      { status: 403 },
    );
  }
  const token = await getToken({ req, secret: config.AUTH_SECRET });
  // Every session cookie of this user signed in before now stops working, including copies.
  // Should the DB be down, Keycloak's logout below still revokes the refresh token, so copies
  // end at their next role refresh (AUTH_ROLE_REFRESH_S) instead.
  if (token?.userId) {
    await endSessions(accountsDb(), token.userId).catch((error: unknown) =>
      console.error(`sign-out could not record the session cutoff: ${(error as Error).message}`),
    );
  }
  const endSession = new URL(
    `${config.KEYCLOAK_ISSUER.replace(/\/$/, "")}/protocol/openid-connect/logout`,
  );
  endSession.searchParams.set("client_id", config.KEYCLOAK_CLIENT_ID);
  // Back to a page that says the sign-out worked. Keycloak's client must allow it as a valid
  // post-logout redirect URI (`<AUTH_URL>/signed-out`, or `<AUTH_URL>/*`).
  endSession.searchParams.set(
    "post_logout_redirect_uri",
    `${config.AUTH_URL.replace(/\/+$/, "")}/signed-out`,
  );
  if (token?.idToken) endSession.searchParams.set("id_token_hint", token.idToken);

  // The sign-out button asks for JSON and navigates itself: CSP `form-action 'self'` would block a
  // form POST that redirects to Keycloak's origin.
  const wantsJson = req.headers.get("accept")?.includes("application/json") ?? false;
  const response = wantsJson
    ? Response.json({ url: endSession.toString() }, { headers: { "cache-control": "no-store" } })
    : new Response(null, { status: 303, headers: { location: endSession.toString() } });
  // Drop every next-auth cookie (plain and __Secure-/__Host- prefixed, chunked session tokens).
  for (const cookie of req.cookies.getAll()) {
    if (/next-auth\./.test(cookie.name)) {
      const secure = cookie.name.startsWith("__Secure-") || cookie.name.startsWith("__Host-");
      response.headers.append(
        "set-cookie",
        `${cookie.name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`,
      );
    }
  }
  return response;
}
