import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import {
  authRequest,
  basicAuth,
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  formAction,
  REDIRECT_URI,
  signIn,
} from "./helpers";

const AFTER_LOGOUT = "http://localhost:3000/";

describe("Keycloak stand-in: end-session", () => {
  let kc: KeycloakStandin;
  const password = (username: string) => kc.users.find((u) => u.username === username)!.password;
  const logoutUrl = (params: Record<string, string>) => {
    const url = new URL(`${kc.issuer}/protocol/openid-connect/logout`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url;
  };
  /** What the next authorization request shows: the login page, or a code straight away. */
  const nextAuthorization = async (browser: Browser) => {
    const { res } = await browser.follow(authRequest(kc).url, {}, REDIRECT_URI);
    if (!res) return "code";
    const html = await res.text();
    return html.includes("Sign In") ? "login page" : `unexpected ${res.status}`;
  };
  const refresh = (refreshToken: string) =>
    fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(CLIENT_ID, CLIENT_SECRET),
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {} });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("with id_token_hint redirects straight to post_logout_redirect_uri and ends the session", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "alice", password("alice"));
    expect(await nextAuthorization(browser)).toBe("code");

    const res = await browser.request(
      logoutUrl({
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: AFTER_LOGOUT,
        client_id: CLIENT_ID,
        state: "s-1",
      }),
    );
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(AFTER_LOGOUT);
    expect(location.searchParams.get("state")).toBe("s-1");

    expect(await nextAuthorization(browser)).toBe("login page");
    expect((await refresh(tokens.refresh_token!)).status).toBe(400);
    const info = await fetch(`${kc.issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.status).toBe(401);
  });

  it("ends the session named by the hint's sid even when the request carries no cookie", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "alice", password("alice"));
    const res = await new Browser().request(
      logoutUrl({ id_token_hint: tokens.id_token, post_logout_redirect_uri: AFTER_LOGOUT }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(AFTER_LOGOUT);
    expect(await nextAuthorization(browser)).toBe("login page");
  });

  it("accepts the logout as a form POST", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "admin", password("admin"));
    const res = await browser.request(`${kc.issuer}/protocol/openid-connect/logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: AFTER_LOGOUT,
        state: "p",
      }),
    });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${AFTER_LOGOUT}?state=p`);
    expect(await nextAuthorization(browser)).toBe("login page");
  });

  it("matches Keycloak-style wildcard post-logout URIs and refuses unregistered ones", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "alice", password("alice"));
    const bad = await browser.request(
      logoutUrl({
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: "http://evil.example/",
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
    expect(await bad.text()).toContain("post_logout_redirect_uri");
    expect(await nextAuthorization(browser)).toBe("code");

    const deep = "http://localhost:3000/signed-out?from=kc";
    const ok = await browser.request(
      logoutUrl({ id_token_hint: tokens.id_token, post_logout_redirect_uri: deep }),
    );
    expect(ok.status).toBe(302);
    expect(ok.headers.get("location")).toBe(deep);
  });

  it("without id_token_hint asks for confirmation, and logs out once confirmed", async () => {
    const browser = new Browser();
    await signIn(kc, browser, "alice", password("alice"));
    const page = await browser.request(
      logoutUrl({ client_id: CLIENT_ID, post_logout_redirect_uri: AFTER_LOGOUT }),
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Do you want to log out?");
    expect(html).toMatch(/<button[^>]*>Logout<\/button>/);
    // Nothing ended yet.
    expect(await nextAuthorization(browser)).toBe("code");

    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await browser.request(new URL(formAction(html), kc.issuer), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ xsrf, logout: "yes" }),
    });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.get("location")).toBe(AFTER_LOGOUT);
    expect(await nextAuthorization(browser)).toBe("login page");
  });

  it("with a hint but no redirect URI shows the logged-out page", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "alice", password("alice"));
    const res = await browser.request(logoutUrl({ id_token_hint: tokens.id_token }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("You are logged out");
    expect(await nextAuthorization(browser)).toBe("login page");
  });

  it("refuses a forged id_token_hint", async () => {
    const browser = new Browser();
    const { tokens } = await signIn(kc, browser, "alice", password("alice"));
    const [header, payload] = tokens.id_token.split(".");
    const forged = `${header}.${payload}.${"A".repeat(342)}`;
    const res = await browser.request(
      logoutUrl({ id_token_hint: forged, post_logout_redirect_uri: AFTER_LOGOUT }),
    );
    expect(res.status).toBe(400);
    expect(await nextAuthorization(browser)).toBe("code");
  });
});
