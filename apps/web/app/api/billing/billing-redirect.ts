import { env } from "~/env";
import { isSameOriginRequest } from "~/server/auth/same-origin";
import { currentSession } from "~/server/auth/session";
import { accountsDb } from "~/server/db";
import type { BillingDeps } from "~/server/domain/billing";
import { DomainError } from "~/server/domain/errors";
import { RateLimited, rateLimiter, type RateLimiter } from "~/server/rate-limit";
import { stripeClient } from "~/server/stripe";

/** Why /billing was shown again instead of Stripe's page; the page words each one. */
export type BillingRedirectError =
  "rate_limited" | "unavailable" | "already_pro" | "no_customer" | "not_found";

let limiter: RateLimiter | undefined;

/**
 * Each user's budget of Checkout and Portal sessions together: every click is a call to Stripe
 * (and may create a customer), so a script cannot turn a session cookie into a flood of them.
 */
function billingLimiter(): RateLimiter {
  limiter ??= rateLimiter(accountsDb(), { name: "billing-redirect", points: 10, durationS: 600 });
  return limiter;
}

/**
 * The two billing buttons are plain HTML forms (they work before the page's script loads) that
 * POST here; the answer is a 303 to Stripe's hosted page, built on the server with the secret key,
 * or back to /billing with an error code the page puts into words. Another site's form gets 403;
 * a signed-out browser is sent to sign in and back to /billing.
 */
export async function billingRedirect(
  request: Request,
  action: "checkout" | "portal",
  start: (deps: BillingDeps, userId: string) => Promise<string>,
): Promise<Response> {
  const config = env();
  if (!isSameOriginRequest(request, config.AUTH_URL))
    return new Response("Requests from other sites are not allowed.", {
      status: 403,
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  const session = await currentSession();
  if (!session) return seeOther(config.AUTH_URL, "/signin?callbackUrl=%2Fbilling");
  const userId = session.user.id;
  try {
    await billingLimiter().consume(userId);
  } catch (error) {
    if (error instanceof RateLimited)
      return seeOther(config.AUTH_URL, `/billing?error=rate_limited&retry=${error.retryAfterS}`);
    throw error;
  }
  try {
    const url = await start(
      {
        db: accountsDb(),
        stripe: stripeClient(),
        pricePro: config.STRIPE_PRICE_PRO,
        siteUrl: config.AUTH_URL,
      },
      userId,
    );
    return seeOther(url);
  } catch (error) {
    if (error instanceof DomainError && error.kind !== "UNAVAILABLE") {
      const code: BillingRedirectError =
        error.kind === "CONFLICT"
          ? "already_pro"
          : error.kind === "PRECONDITION_FAILED"
            ? "no_customer"
            : "not_found";
      return seeOther(config.AUTH_URL, `/billing?error=${code}`);
    }
    // Stripe's own words (and ids) are for the server log only.
    console.error(
      `billing ${action} for user ${userId} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    await billingLimiter()
      .refund(userId)
      .catch(() => undefined);
    return seeOther(config.AUTH_URL, "/billing?error=unavailable");
  }
}

function seeOther(base: string, path?: string): Response {
  const location = path === undefined ? base : new URL(path, base).toString();
  return new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });
}
