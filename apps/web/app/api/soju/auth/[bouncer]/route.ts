import { env } from "~/env";
import { appPasswordHasher } from "~/server/app-password-hasher";
import { accountsDb } from "~/server/db";
import { checkSojuLogin } from "~/server/domain/soju-auth";

export const dynamic = "force-dynamic";

/**
 * soju's `auth http` backend: `POST /api/soju/auth/{bouncer}` (SOJU_AUTH_PATH's default; the
 * operator writes `auth http <portal internal URL>/api/soju/auth/<name>` into each soju's
 * config). 200 = accepted, 403 = refused, 503 = our fault (the accounts DB is down).
 *
 * Internal only: the public ingress never routes `/api/soju/`, and a NetworkPolicy lets only
 * the soju pods reach the web's port for it (docs/architecture.md, "App passwords"). Nothing
 * here logs the request's headers: they carry the password.
 */
export async function POST(
  request: Request,
  { params }: { params: Promise<{ bouncer: string }> },
): Promise<Response> {
  const { bouncer } = await params;
  let answer;
  try {
    const config = env();
    answer = await checkSojuLogin(
      { db: accountsDb(), namespace: config.K8S_NAMESPACE, hasher: appPasswordHasher() },
      { bouncer, authorization: request.headers.get("authorization"), headers: request.headers },
    );
  } catch (error) {
    // Broken configuration: the name of the error only (a config message names no secret, but
    // stay on the safe side of the rule).
    console.error(`soju auth: cannot answer (${(error as Error).name})`);
    return new Response(null, { status: 500, headers: noStore });
  }
  return new Response(null, { status: answer.status, headers: noStore });
}

const noStore = { "cache-control": "no-store" };

const notAllowed = () =>
  new Response(null, { status: 405, headers: { allow: "POST", ...noStore } });
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
