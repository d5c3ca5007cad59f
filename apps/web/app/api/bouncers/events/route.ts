import { currentSession } from "~/server/auth/session";
import { bouncerEventStream } from "~/server/live/event-stream";
import { liveFeed } from "~/server/live/feed";

export const dynamic = "force-dynamic";

/**
 * Server-sent events for the signed-in user's dashboard (live status, issue 17). Signed out:
 * 401, and the dashboard keeps polling.
 */
export async function GET(request: Request): Promise<Response> {
  const session = await currentSession();
  if (!session) return new Response("Please sign in.", { status: 401 });
  const stream = bouncerEventStream(liveFeed(), session.user.id, request.signal);
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store, no-transform",
      // nginx (ingress-nginx) would otherwise buffer the stream.
      "x-accel-buffering": "no",
    },
  });
}
