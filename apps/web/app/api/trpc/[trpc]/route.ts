import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "~/env";
import { appRouter } from "~/server/api/root";
import { createTRPCContext, logUnexpectedError } from "~/server/api/trpc";
import { refuseCrossSiteMutation } from "~/server/auth/same-origin";
import { currentSignedIn } from "~/server/auth/session";

export const dynamic = "force-dynamic";

const handler = async (req: Request) =>
  // Cross-site or non-JSON mutations never reach a procedure (403 / 415).
  refuseCrossSiteMutation(req, env().AUTH_URL) ??
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => {
      // The user row the session check read is the one protectedProcedure checks (one read).
      const signedIn = await currentSignedIn();
      return createTRPCContext(signedIn?.session ?? null, signedIn?.user);
    },
    onError: logUnexpectedError,
  });

export { handler as GET, handler as POST };
