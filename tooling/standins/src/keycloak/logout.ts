import type { CookieSetOptions, KoaContextWithOIDC, Middleware } from "oidc-provider";
import type { ProviderStore } from "./adapter";
import { loggedOutPage, logoutConfirmPage } from "./pages";

export interface LogoutContext {
  readonly realm: string;
  readonly store: ProviderStore;
  readonly sessionCookie: () => string;
  readonly sessionCookieOptions: CookieSetOptions;
}

// No form-action: Chrome applies it to the redirect that follows the submission.
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/** `features.rpInitiatedLogout.logoutSource`: Keycloak's confirmation page (no id_token_hint). */
export function logoutSource(realm: string) {
  return async (ctx: KoaContextWithOIDC, form: string): Promise<void> => {
    if (ctx.oidc.entities.IdTokenHint) return; // finished by endSessionWithHint, no page
    ctx.type = "html";
    ctx.set("content-security-policy", PAGE_CSP);
    ctx.body = logoutConfirmPage(realm, form);
  };
}

export function postLogoutSuccessSource(realm: string) {
  return async (ctx: KoaContextWithOIDC): Promise<void> => {
    ctx.type = "html";
    ctx.set("content-security-policy", PAGE_CSP);
    ctx.body = loggedOutPage(realm);
  };
}

/**
 * Keycloak ends the session at once when the logout request carries a valid
 * `id_token_hint` (no confirmation page) and finds that session by the token's `sid`, so
 * it works even when the browser sends no cookie. oidc-provider has validated the hint,
 * `client_id` and `post_logout_redirect_uri` by the time this runs after its route.
 */
export function endSessionWithHint(ctx: LogoutContext): Middleware {
  return async (koa, next) => {
    await next();
    const oidc = (koa as Partial<KoaContextWithOIDC>).oidc;
    if (oidc?.route !== "end_session" || koa.status >= 400) return;
    const hint = oidc.entities.IdTokenHint;
    if (!hint) return;

    const sessionIds = new Set<string>();
    if (oidc.session?.accountId) sessionIds.add(oidc.session.jti);
    if (typeof hint.payload.sid === "string") {
      for (const id of ctx.store.sessionIdsWithSid(hint.payload.sid)) sessionIds.add(id);
    }
    for (const id of sessionIds) ctx.store.endSession(id);
    koa.cookies.set(ctx.sessionCookie(), null, ctx.sessionCookieOptions);

    const target = oidc.params?.post_logout_redirect_uri;
    if (typeof target === "string") {
      const url = new URL(target);
      const state = oidc.params?.state;
      if (typeof state === "string") url.searchParams.set("state", state);
      koa.status = 302;
      koa.redirect(url.href);
      return;
    }
    koa.status = 200;
    koa.type = "html";
    koa.set("content-security-policy", PAGE_CSP);
    koa.body = loggedOutPage(ctx.realm);
  };
}
