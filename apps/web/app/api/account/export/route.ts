import { currentSession } from "~/server/auth/session";
import { accountsDb } from "~/server/db";
import { exportAccount, exportFileName, type AccountExport } from "~/server/domain/account-export";
import { DomainError } from "~/server/domain/errors";

export const dynamic = "force-dynamic";

/**
 * "Export my data" (profile page): everything the portal holds about the signed-in user, as a
 * JSON download. Another site may link here (a top-level GET) but never fetch it: a request a
 * browser marks as coming from another site gets 403, and the answer is never cached.
 */
export async function GET(request: Request): Promise<Response> {
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite === "cross-site" || fetchSite === "same-site")
    return text(403, "Requests from other sites are not allowed.");
  const session = await currentSession();
  if (!session) return text(401, "Please sign in.");
  let data: AccountExport;
  try {
    data = await exportAccount(accountsDb(), session.user.id);
  } catch (error) {
    if (error instanceof DomainError) return text(404, error.message);
    console.error(`account export failed: ${(error as Error).message}`);
    return text(503, "Your data could not be exported right now. Please try again in a minute.");
  }
  return new Response(`${JSON.stringify(data, null, 2)}\n`, {
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": `attachment; filename=${exportFileName(data.account.username)}`,
      "cache-control": "no-store",
    },
  });
}

function text(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}
