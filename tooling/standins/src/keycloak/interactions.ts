import type { IncomingMessage, ServerResponse } from "node:http";
import type { Interaction, Provider } from "oidc-provider";
import { readForm, sendHtml } from "./http";
import { errorPage, loginPage } from "./pages";
import type { UserStore } from "./users";

export interface InteractionContext {
  readonly provider: Provider;
  readonly users: UserStore;
  readonly realm: string;
  /** `/realms/<realm>/login-actions/authenticate` */
  readonly basePath: string;
  readonly clientName: (clientId: string | undefined) => string | undefined;
}

const INVALID_LOGIN = "Invalid username or password.";
const DISABLED = "Account is disabled, contact your administrator.";
const EXPIRED = "Your login attempt timed out. Login will start from the beginning.";

/**
 * The login step of oidc-provider's interaction API (devInteractions are off). Consent is
 * granted without a screen: every configured client is first-party, as in Keycloak by default.
 */
export async function handleInteraction(
  ctx: InteractionContext,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Promise<void> {
  let details: Interaction;
  try {
    details = await ctx.provider.interactionDetails(req, res);
  } catch {
    sendHtml(res, 400, errorPage(ctx.realm, EXPIRED));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, errorPage(ctx.realm, EXPIRED));
    return;
  }

  switch (details.prompt.name) {
    case "login":
      await login(ctx, details, req, res);
      return;
    case "consent":
      await grantConsent(ctx, details, req, res);
      return;
    default:
      sendHtml(res, 400, errorPage(ctx.realm, `Unsupported interaction: ${details.prompt.name}`));
  }
}

async function login(
  ctx: InteractionContext,
  details: Interaction,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const page = (status: number, username?: string, error?: string) =>
    sendHtml(
      res,
      status,
      loginPage({
        realm: ctx.realm,
        action: `${ctx.basePath}/${details.uid}`,
        clientName: ctx.clientName(details.params.client_id),
        ...(username !== undefined ? { username } : {}),
        ...(error !== undefined ? { error } : {}),
      }),
    );

  if (req.method === "GET") {
    const hint =
      typeof details.params.login_hint === "string" ? details.params.login_hint : undefined;
    page(200, hint);
    return;
  }
  if (req.method !== "POST") {
    res.writeHead(405, { allow: "GET, POST" }).end();
    return;
  }
  const form = await readForm(req);
  const username = form.get("username") ?? "";
  const password = form.get("password") ?? "";
  const user = ctx.users.checkPassword(username, password);
  if (!user) {
    // Keycloak answers a failed login with the form again (200), the username kept.
    page(200, username, INVALID_LOGIN);
    return;
  }
  if (!user.enabled) {
    page(200, username, DISABLED);
    return;
  }
  await ctx.provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.id } },
    { mergeWithLastSubmission: false },
  );
}

async function grantConsent(
  ctx: InteractionContext,
  details: Interaction,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (!accountId || !clientId) {
    sendHtml(res, 400, errorPage(ctx.realm, EXPIRED));
    return;
  }
  const { Grant } = ctx.provider;
  const grant =
    (details.grantId ? await Grant.find(details.grantId) : undefined) ??
    new Grant({ accountId, clientId });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(" "));
  }
  const grantId = await grant.save();
  await ctx.provider.interactionFinished(
    req,
    res,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}
