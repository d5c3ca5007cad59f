/**
 * CSRF defence in depth for the tRPC route, beside SameSite=Lax session cookies: a request that
 * changes state must come from our own pages (Origin, or Sec-Fetch-Site when a browser sends no
 * Origin) and be JSON — the one body type a cross-site HTML form or a "simple" cross-site fetch
 * (text/plain, multipart/form-data, urlencoded) can never send without a CORS preflight.
 * Clients that are not browsers send neither header and are let through: CSRF needs a browser.
 */
export function refuseCrossSiteMutation(req: Request, siteOrigin: string): Response | null {
  if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return null;
  if (!isSameOriginRequest(req, siteOrigin)) {
    return refusal(403, "FORBIDDEN", "Requests from other sites are not allowed.");
  }
  const mediaType = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json") {
    return refusal(415, "UNSUPPORTED_MEDIA_TYPE", "Changes must be sent as application/json.");
  }
  return null;
}

/**
 * Whether a browser sent this request from one of our own pages (the same rule as above, without
 * the JSON requirement): for the few routes our pages reach with a plain HTML form POST (the
 * billing redirects), which must still refuse another site's form.
 */
export function isSameOriginRequest(req: Request, siteOrigin: string): boolean {
  const origin = req.headers.get("origin");
  const fetchSite = req.headers.get("sec-fetch-site");
  // Our origin is AUTH_URL's, or the host this request was addressed to (a second server on
  // another port, e.g. `next dev` beside the production build; Next builds `req.url` from its
  // own bind address, so the Host header is what the browser used). A browser never sends
  // another site's request with our host in `Origin`, nor lets a page set Host.
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host");
  const sameOrigin =
    origin !== null
      ? origin === new URL(siteOrigin).origin || (host !== null && hostOf(origin) === host)
      : fetchSite === null || fetchSite === "same-origin" || fetchSite === "none";
  return sameOrigin;
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null; // "null" (opaque origins) and garbage
  }
}

function refusal(status: number, code: string, message: string): Response {
  // tRPC's error shape, so the app's client shows the message like any other error.
  return Response.json(
    { error: { message, code: -32600, data: { code, httpStatus: status } } },
    { status, headers: { "cache-control": "no-store" } },
  );
}
