import type { IncomingMessage, ServerResponse } from "node:http";
import type { ProviderStore } from "./adapter";
import { bearerToken, readForm, sendJson } from "./http";
import { mappedClaims } from "./protocol-mappers";
import {
  clientMappers,
  TokenError,
  userClaims,
  verifyAccessToken,
  type TokenContext,
} from "./tokens";

export interface UserinfoContext extends TokenContext {
  readonly store: ProviderStore;
}

/**
 * `GET|POST {issuer}/protocol/openid-connect/userinfo`, served here rather than by
 * oidc-provider because its userinfo endpoint only accepts its own opaque tokens, while
 * Keycloak's accepts the JWT access token. Claims follow the token's scopes; roles are
 * never included (Keycloak's realm-roles mapper targets the access token only).
 */
export async function handleUserinfo(
  ctx: UserinfoContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "POST") {
    res.writeHead(405, { allow: "GET, POST" }).end();
    return;
  }
  let token = bearerToken(req);
  if (req.method === "POST") {
    const form = await readForm(req);
    token ??= form.get("access_token") ?? undefined;
  }
  const fail = (status: number, error: string, description: string) =>
    sendJson(
      res,
      status,
      { error, error_description: description },
      {
        "www-authenticate": `Bearer realm="${ctx.realm}", error="${error}", error_description="${description}"`,
      },
    );
  if (!token) {
    fail(401, "invalid_token", "Token not provided");
    return;
  }
  let payload;
  try {
    payload = await verifyAccessToken(ctx, token);
  } catch (err) {
    if (err instanceof TokenError) {
      fail(401, "invalid_token", err.message);
      return;
    }
    throw err;
  }
  const scopes = new Set(String(payload.scope ?? "").split(" "));
  if (!scopes.has("openid")) {
    fail(403, "insufficient_scope", "Missing openid scope");
    return;
  }
  if (typeof payload.sid === "string" && ctx.store.sessionIdsWithSid(payload.sid).length === 0) {
    fail(401, "invalid_token", "User session not found or doesn't have client attached on it");
    return;
  }
  const user = ctx.users.byId(payload.sub!);
  if (!user || !user.enabled) {
    fail(401, "invalid_token", "User not found or disabled");
    return;
  }
  sendJson(res, 200, {
    sub: user.id,
    ...userClaims(user, scopes),
    ...mappedClaims(clientMappers(ctx, payload.azp), user, "userinfo.token.claim"),
  });
}
