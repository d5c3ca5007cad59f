import { createHash, randomBytes } from "node:crypto";
import type { KeycloakStandin } from "@irc-now/standins/keycloak";

export interface KeycloakTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
}

/**
 * A whole browser sign-in at the Keycloak stand-in, over HTTP as a browser does it
 * (authorization request with PKCE, login form, redirect back, code exchange): real tokens for
 * the portal's client, as next-auth receives them in its callback.
 */
export async function keycloakSignIn(
  kc: KeycloakStandin,
  username: string,
  password: string,
): Promise<KeycloakTokens> {
  const client = kc.clients[0]!;
  const redirectUri = client.redirectUris[0]!;
  const verifier = randomBytes(32).toString("base64url");
  const auth = new URL(`${kc.issuer}/protocol/openid-connect/auth`);
  for (const [k, v] of Object.entries({
    client_id: client.clientId,
    response_type: "code",
    redirect_uri: redirectUri,
    scope: "openid email profile",
    state: randomBytes(8).toString("hex"),
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }))
    auth.searchParams.set(k, v);

  const jar = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([n, v]) => `${n}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const i = pair.indexOf("=");
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  };
  // Follow redirects until a page (the login form) or our redirect URI (the code).
  const follow = async (start: string, init?: RequestInit) => {
    let url = start;
    let res = await request(url, init);
    while (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get("location")!, url).href;
      if (url.startsWith(redirectUri)) return { url, res: undefined };
      res = await request(url);
    }
    return { url, res };
  };

  const page = await follow(auth.href);
  const html = await page.res!.text();
  const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");
  if (!action) throw new Error("no login form");
  const done = await follow(new URL(action, page.url).href, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password }).toString(),
  });
  const code = new URL(done.url).searchParams.get("code");
  if (!code) throw new Error(`sign-in did not return a code (${done.url})`);
  const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  if (!res.ok) throw new Error(`code exchange failed: ${res.status}`);
  return (await res.json()) as KeycloakTokens;
}

/** The stand-in's admin API as an admin script uses it (service-account token). */
export async function keycloakAdmin(kc: KeycloakStandin) {
  const account = kc.serviceAccounts[0]!;
  const tokenRes = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${account.clientId}:${account.clientSecret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials" }),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${kc.adminUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
  return {
    async removeRealmRole(username: string, role: string): Promise<void> {
      const rep = await (await api(`/roles/${encodeURIComponent(role)}`)).json();
      const res = await api(`/users/${kc.getUser(username)!.id}/role-mappings/realm`, {
        method: "DELETE",
        body: JSON.stringify([rep]),
      });
      if (res.status !== 204) throw new Error(`role-mappings DELETE answered ${res.status}`);
    },
    async disable(username: string): Promise<void> {
      const res = await api(`/users/${kc.getUser(username)!.id}`, {
        method: "PUT",
        body: JSON.stringify({ enabled: false }),
      });
      if (res.status !== 204) throw new Error(`user PUT answered ${res.status}`);
    },
  };
}
