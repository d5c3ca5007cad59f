/**
 * Where a `callbackUrl` may send the browser: a path on our own site, never another one.
 *
 * The value is resolved the way a browser resolves a Location header — against the site origin,
 * with WHATWG URL parsing, which turns `\` into `/` and drops tabs and newlines — so
 * `/\evil.example`, `/<TAB>/evil.example` and `//evil.example` are seen for what they are
 * (another host) instead of slipping past a `startsWith("/")` check. Only the path, query and
 * fragment of a same-origin result are kept, with leading slashes collapsed, so the answer is
 * always a plain `/…` path that no browser reads as a host.
 */
export function safeRedirectPath(
  raw: unknown,
  siteOrigin: string,
  fallback = "/dashboard",
): string {
  // A repeated query parameter arrives as an array: not a path.
  if (typeof raw !== "string" || !raw) return fallback;
  const origin = new URL(siteOrigin).origin;
  let target: URL;
  try {
    target = new URL(raw, origin);
  } catch {
    return fallback;
  }
  if (target.origin !== origin) return fallback;
  const path = `${target.pathname.replace(/^\/+/, "/")}${target.search}${target.hash}`;
  // Belt and braces: whatever the parser did, the result must start with one slash and then
  // something that is neither a slash nor a backslash.
  return /^\/(?![/\\])/.test(path) ? path : fallback;
}

/** The same rule as an absolute URL on our site (next-auth's `redirect` callback wants one). */
export function safeRedirectUrl(raw: unknown, siteOrigin: string, fallback = "/dashboard"): string {
  return `${new URL(siteOrigin).origin}${safeRedirectPath(raw, siteOrigin, fallback)}`;
}
