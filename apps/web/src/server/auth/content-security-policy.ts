/**
 * The Content-Security-Policy of one response. Scripts run only with this request's nonce
 * (Next puts it on its own scripts when it finds it in the request's CSP header) and what
 * those load ('strict-dynamic'); no 'unsafe-inline' scripts. Styles keep 'unsafe-inline':
 * React server-renders `style` attributes (recharts' charts, our bars), which a nonce cannot
 * cover, and a style cannot run code. The dev server also needs eval (React's error stacks)
 * and its hot-reload websocket.
 */
export function contentSecurityPolicy(
  nonce: string,
  dev: boolean,
  formTargets: readonly string[] = [],
): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "frame-ancestors 'none'",
    "base-uri 'self'",
    ["form-action 'self'", ...formTargets].join(" "),
    "object-src 'none'",
  ].join("; ");
}

/**
 * Where the billing page's forms lead: /api/billing/* answers them with a 303 to Stripe's hosted
 * Checkout or Billing Portal, and form-action also covers a form's redirects (Chromium blocks the
 * navigation otherwise). The STRIPE_API_URL origin is the stand-in's in dev and tests.
 */
export function billingFormTargets(stripeApiUrl: string | undefined): string[] {
  const targets = ["https://checkout.stripe.com", "https://billing.stripe.com"];
  if (stripeApiUrl) targets.push(new URL(stripeApiUrl).origin);
  return targets;
}

/** A fresh, unguessable nonce per request (128 bits). */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}

/** HSTS for two years, subdomains included; only sent when the site is served over https. */
export const STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains";
