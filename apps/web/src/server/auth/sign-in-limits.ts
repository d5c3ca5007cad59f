import type { AccountsDb } from "@irc-now/db";
import { RateLimited, rateLimiter, type RateLimit, type RateLimiter } from "../rate-limit";

/**
 * Budgets per client address. A sign-in is one start and one callback; these leave room for a
 * household or office behind one address, and stop a script from hammering Keycloak's token
 * endpoint and our users table through us.
 */
export const SIGN_IN_START_LIMIT: RateLimit = { name: "signin-start", points: 30, durationS: 600 };
export const SIGN_IN_CALLBACK_LIMIT: RateLimit = {
  name: "signin-callback",
  points: 30,
  durationS: 600,
};

/**
 * The client's address: the right-most `X-Forwarded-For` entry, the one our own ingress (the
 * one proxy in front of the web) appended and the client cannot forge; without a proxy,
 * `next start` sets it from the socket.
 */
export function clientAddress(req: Request): string {
  const forwarded = req.headers.get("x-forwarded-for");
  const last = forwarded?.split(",").at(-1)?.trim();
  return last || req.headers.get("x-real-ip")?.trim() || "unknown";
}

export interface SignInLimiters {
  start: RateLimiter;
  callback: RateLimiter;
}

export function signInLimiters(db: AccountsDb): SignInLimiters {
  return {
    start: rateLimiter(db, SIGN_IN_START_LIMIT),
    callback: rateLimiter(db, SIGN_IN_CALLBACK_LIMIT),
  };
}

/**
 * For next-auth's route: the sign-in start (`POST /api/auth/signin/keycloak`) and the OAuth
 * callback (`/api/auth/callback/keycloak`) each spend a point of the client address's budget;
 * over it, the answer is a 429 saying when to try again (null: go on).
 */
export async function refuseTooManySignIns(
  req: Request,
  action: readonly string[],
  limiters: SignInLimiters,
  siteUrl: string,
): Promise<Response | null> {
  const [kind, provider] = action;
  const limiter =
    kind === "callback" && provider
      ? limiters.callback
      : kind === "signin" && provider && req.method === "POST"
        ? limiters.start
        : null;
  if (!limiter) return null;
  try {
    await limiter.consume(clientAddress(req));
    return null;
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    const retryAfter = String(error.retryAfterS);
    const headers = { "retry-after": retryAfter, "cache-control": "no-store" };
    if (kind === "signin" && (await wantsJson(req))) {
      // next-auth's signIn() posts `json=true` and navigates to the `url` it gets back.
      const url = new URL("/signin", siteUrl);
      url.searchParams.set("retryAfter", retryAfter);
      return Response.json({ url: url.toString() }, { status: 429, headers });
    }
    return new Response(tooManySignInsPage(error.retryAfterS), {
      status: 429,
      headers: { ...headers, "content-type": "text/html; charset=utf-8" },
    });
  }
}

async function wantsJson(req: Request): Promise<boolean> {
  const body = await req
    .clone()
    .text()
    .catch(() => "");
  return new URLSearchParams(body).get("json") === "true";
}

/** A small self-contained page (no scripts): what happened and when to try again. */
export function tooManySignInsPage(retryAfterS: number): string {
  const wait = retryAfterWords(retryAfterS);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many sign-in attempts · irc.now</title>
<style>body{margin:0;background:#020617;color:#e2e8f0;font:16px/1.5 system-ui,sans-serif}main{max-width:36rem;margin:0 auto;padding:4rem 1rem}h1{color:#fff;font-size:1.5rem}a{color:#34d399}</style>
</head><body><main id="main">
<h1>Too many sign-in attempts</h1>
<p role="alert" data-testid="rate-limited-message">There have been too many sign-in attempts from your network. Please try again in ${wait}.</p>
<p><a href="/">Back to irc.now</a></p>
</main></body></html>`;
}

/** "45 s", "3 min" — the wait in words a person reads at a glance. */
export function retryAfterWords(retryAfterS: number): string {
  return retryAfterS < 120 ? `${retryAfterS} s` : `${Math.ceil(retryAfterS / 60)} min`;
}
