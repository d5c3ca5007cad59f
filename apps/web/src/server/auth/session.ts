import "server-only";
import { getServerSession, type Session } from "next-auth";
import { authOptions } from "./options";

/** The signed-in user's session in a server component or route, or null. */
export async function currentSession(): Promise<Session | null> {
  const session = await getServerSession(authOptions());
  return session?.user.id ? session : null;
}
