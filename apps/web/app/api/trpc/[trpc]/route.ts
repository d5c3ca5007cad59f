import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "~/env";
import { appRouter } from "~/server/api/root";
import { createTRPCContext, logUnexpectedError } from "~/server/api/trpc";
import { STRICT_TRANSPORT_SECURITY } from "~/server/auth/content-security-policy";
import { refuseCrossSiteMutation } from "~/server/auth/same-origin";
import { refreshedRequestSession, signedInUser } from "~/server/auth/session";
import { withSessionCookieUpdate } from "~/server/auth/session-cookie";

export const dynamic = "force-dynamic";

const handler = async (req: Request) => {
  const site = env().AUTH_URL;
  // Cross-site or non-JSON mutations never reach a procedure (403 / 415).
  const refused = refuseCrossSiteMutation(req, site);
  if (refused) return refused;
  // proxy.ts skips this route: the session's role refresh happens here (set-cookie when due).
  const { session, update, cookies } = await refreshedRequestSession();
  const res = await fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    // The cookie is checked here; the user row (sign-out cutoff, plan) when a procedure needs
    // it, once per request (bouncer.mine reads it with the projection, in one statement).
    createContext: () => createTRPCContext(session, signedInUser),
    onError: logUnexpectedError,
  });
  if (site.startsWith("https://"))
    res.headers.set("strict-transport-security", STRICT_TRANSPORT_SECURITY);
  return withSessionCookieUpdate(update, cookies, res);
};

export { handler as GET, handler as POST };
