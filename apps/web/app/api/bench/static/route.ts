import { benchRoutesEnabled } from "~/env";

export const dynamic = "force-dynamic";

const body = JSON.stringify({ ok: true, service: "irc-now-web", bench: "static" });

/**
 * The baseline of `npm run bench`: a bare route handler with a static JSON body, served by the
 * same `next start` as tRPC. 404 unless BENCH_ROUTES=1, so it does not exist in production.
 */
export function GET(): Response {
  if (!benchRoutesEnabled())
    return new Response("Not Found", { status: 404, headers: { "cache-control": "no-store" } });
  return new Response(body, {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}
