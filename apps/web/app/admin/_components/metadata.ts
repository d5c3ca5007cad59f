import type { Metadata } from "next";
import { currentSession } from "~/server/auth/session";

export const ACCESS_DENIED_TITLE = "Access denied · irc.now";
export const NOT_FOUND_TITLE = "Page not found · irc.now";

/**
 * An admin page's metadata. The admin layout answers a signed-in non-admin with forbidden(),
 * but Next still resolves the page's own metadata for that 403: without this, the "You do not
 * have access" page would be titled like the page it refuses.
 */
export async function adminMetadata(title: Metadata["title"]): Promise<Metadata> {
  const session = await currentSession().catch(() => null);
  if (session && !session.user.isAdmin) return { title: { absolute: ACCESS_DENIED_TITLE } };
  return { title };
}
