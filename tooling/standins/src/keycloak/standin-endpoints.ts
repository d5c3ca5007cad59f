import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "./http";
import type { StandinRecords } from "./records";

/** Read-only test endpoints of the stand-in; no real Keycloak has them. */
export const STANDIN_PREFIX = "/_standin/";

/**
 * `GET /_standin/emails[?username=…]`: the execute-actions emails sent (oldest first).
 * `GET /_standin/id-token-claims?username=…`: the claims of the ID tokens issued to a user.
 * For browser tests that drive a stack in another process and want to assert what happened.
 */
export function handleStandinEndpoint(
  records: StandinRecords,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): void {
  if (req.method !== "GET") return sendJson(res, 405, { error: "method not allowed" });
  const username = url.searchParams.get("username") ?? undefined;
  switch (url.pathname.slice(STANDIN_PREFIX.length)) {
    case "emails":
      return sendJson(res, 200, records.emails(username));
    case "id-token-claims":
      if (!username) return sendJson(res, 400, { error: "username is required" });
      return sendJson(res, 200, records.idTokenClaims(username));
    default:
      return sendJson(res, 404, { error: "no such stand-in endpoint" });
  }
}
