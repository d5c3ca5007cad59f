import NextAuth from "next-auth";
import { env } from "~/env";
import { authOptions } from "~/server/auth/options";
import { refuseTooManySignIns, signInLimiters } from "~/server/auth/sign-in-limits";
import { accountsDb } from "~/server/db";

type Context = { params: Promise<{ nextauth: string[] }> };

let limiters: ReturnType<typeof signInLimiters> | undefined;

// Options are built on the first request, not at import, so `next build` needs no secrets.
async function handler(req: Request, context: Context) {
  const { nextauth } = await context.params;
  const refused = await refuseTooManySignIns(
    req,
    nextauth,
    (limiters ??= signInLimiters(accountsDb())),
    env().AUTH_URL,
  );
  if (refused) return refused;
  return NextAuth(req as never, context as never, authOptions()) as Promise<Response>;
}

export { handler as GET, handler as POST };
