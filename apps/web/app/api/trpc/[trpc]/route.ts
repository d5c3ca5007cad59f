import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "~/env";
import { appRouter } from "~/server/api/root";
import { createTRPCContext, logUnexpectedError } from "~/server/api/trpc";
import { refuseCrossSiteMutation } from "~/server/auth/same-origin";
import { sessionFromCookie, signedInUser } from "~/server/auth/session";

export const dynamic = "force-dynamic";

const handler = async (req: Request) =>
  // Cross-site or non-JSON mutations never reach a procedure (403 / 415).
  refuseCrossSiteMutation(req, env().AUTH_URL) ??
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    // The cookie is checked here; the user row (sign-out cutoff, plan) when a procedure needs
    // it, once per request (bouncer.mine reads it with the projection, in one statement).
    createContext: async () => createTRPCContext(await sessionFromCookie(), signedInUser),
    onError: logUnexpectedError,
  });

export { handler as GET, handler as POST };
