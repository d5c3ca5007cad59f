import NextAuth from "next-auth";
import { authOptions } from "~/server/auth/options";

type Context = { params: Promise<{ nextauth: string[] }> };

// Options are built on the first request, not at import, so `next build` needs no secrets.
function handler(req: Request, context: Context) {
  return NextAuth(req as never, context as never, authOptions()) as Promise<Response>;
}

export { handler as GET, handler as POST };
