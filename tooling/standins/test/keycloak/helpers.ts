import { createHash, randomBytes } from "node:crypto";
import type { KeycloakStandin } from "../../src/keycloak";

interface StoredCookie {
  value: string;
  path: string;
}

/** A tiny browser: a cookie jar for one host and manual redirect following. */
export class Browser {
  readonly cookies = new Map<string, StoredCookie>();

  cookieHeader(url: URL): string {
    return [...this.cookies.entries()]
      .filter(
        ([, c]) =>
          url.pathname === c.path.replace(/\/$/, "") ||
          url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
  }

  store(res: Response, url: URL): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, "") || "/";
      let expired = value === "";
      for (const attr of attrs) {
        const [k = "", v = ""] = attr.split("=");
        if (k.toLowerCase() === "path") path = v;
        if (k.toLowerCase() === "expires" && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === "max-age" && Number(v) <= 0) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  /** One request, no redirect following; cookies sent and stored. */
  async request(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set("cookie", cookie);
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    this.store(res, url);
    return res;
  }

  /**
   * Follow redirects from `input` until a response is not a redirect, or until the next
   * location starts with `stopAt` (the client's redirect URI, never fetched).
   */
  async follow(
    input: string | URL,
    init: RequestInit = {},
    stopAt?: string,
  ): Promise<{ res?: Response; url: string }> {
    let url = new URL(input).href;
    let res = await this.request(url, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) return { res, url };
      url = new URL(location, url).href;
      await res.body?.cancel();
      if (stopAt && url.startsWith(stopAt)) return { url };
      res = await this.request(url);
    }
    throw new Error("too many redirects");
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

export function formAction(html: string): string {
  const match = /<form[^>]*\baction="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no form on the page");
  return match[1].replaceAll("&amp;", "&");
}

export const REDIRECT_URI = "http://localhost:3000/api/auth/callback/keycloak";
export const CLIENT_ID = "account-portal";
export const CLIENT_SECRET = "account-portal-secret";

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

export interface AuthRequest {
  state: string;
  nonce: string;
  verifier: string;
  url: URL;
}

export function authRequest(kc: KeycloakStandin, extra: Record<string, string> = {}): AuthRequest {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(12).toString("base64url");
  const nonce = randomBytes(12).toString("base64url");
  const url = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
  const params: Record<string, string> = {
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT_URI,
    scope: "openid email profile",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { state, nonce, verifier, url };
}

export interface TokenSet {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** Submit the login form found in `html` and follow redirects back to the client. */
export async function submitLogin(
  browser: Browser,
  pageUrl: string,
  html: string,
  username: string,
  password: string,
) {
  const action = new URL(formAction(html), pageUrl);
  return browser.follow(
    action,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password }).toString(),
    },
    REDIRECT_URI,
  );
}

export async function exchangeCode(
  kc: KeycloakStandin,
  code: string,
  verifier: string,
): Promise<Response> {
  return fetch(`${kc.issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: basicAuth(CLIENT_ID, CLIENT_SECRET),
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }),
  });
}

/** The whole browser sign-in: /auth → login page → form → callback → code exchange. */
export async function signIn(
  kc: KeycloakStandin,
  browser: Browser,
  username: string,
  password: string,
) {
  const req = authRequest(kc);
  const page = await browser.follow(req.url);
  if (!page.res || page.res.status !== 200)
    throw new Error(`login page not shown (${page.res?.status})`);
  const done = await submitLogin(browser, page.url, await page.res.text(), username, password);
  if (done.res)
    throw new Error(
      `no redirect back to the client (${done.res.status}: ${await done.res.text()})`,
    );
  const callback = new URL(done.url);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`no code in ${done.url}`);
  const res = await exchangeCode(kc, code, req.verifier);
  if (res.status !== 200)
    throw new Error(`token exchange failed: ${res.status} ${await res.text()}`);
  return { tokens: (await res.json()) as TokenSet, callback, request: req };
}

export async function serviceAccountToken(
  kc: KeycloakStandin,
  clientId = "irc-now-admin-api",
  secret = "irc-now-admin-api-secret",
) {
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: basicAuth(clientId, secret),
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  if (res.status !== 200)
    throw new Error(`client_credentials failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
