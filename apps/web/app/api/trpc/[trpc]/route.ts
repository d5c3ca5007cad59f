import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "~/server/api/root";
import { createTRPCContext, logUnexpectedError } from "~/server/api/trpc";
import { currentSession } from "~/server/auth/session";

export const dynamic = "force-dynamic";

const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: async () => createTRPCContext(await currentSession()),
    onError: logUnexpectedError,
  });

export { handler as GET, handler as POST };
