import { pingDb } from "@irc-now/db";
import { accountsDb } from "~/server/db";

export const dynamic = "force-dynamic";

/** Liveness + DB connectivity for load balancers and `npm run dev`. */
export async function GET(): Promise<Response> {
  let db = false;
  try {
    db = await pingDb(accountsDb());
  } catch {
    db = false; // bad or missing config: report unhealthy, never the reason (it may hold secrets)
  }
  return Response.json(
    { status: db ? "ok" : "degraded", db },
    { status: db ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
