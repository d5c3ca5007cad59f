import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import {
  authRequest,
  basicAuth,
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  exchangeCode,
  REDIRECT_URI,
  signIn,
  submitLogin,
  type TokenSet,
} from "./helpers";

describe("Keycloak stand-in: authorization code flow", () => {
  let kc: KeycloakStandin;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const password = (username: string) => kc.users.find((u) => u.username === username)!.password;

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {} });
    jwks = createRemoteJWKSet(new URL(`${kc.issuer}/protocol/openid-connect/certs`));
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("shows a login page with labelled username/password inputs and a Sign In button", async () => {
    const browser = new Browser();
    const { res, url } = await browser.follow(authRequest(kc).url);
    expect(res?.status).toBe(200);
    expect(url.startsWith(`${kc.issuer}/login-actions/authenticate/`)).toBe(true);
    const html = await res!.text();
    expect(html).toMatch(/<label for="username">Username or email<\/label>/);
    expect(html).toMatch(/<input id="username" name="username"/);
    expect(html).toMatch(/<label for="password">Password<\/label>/);
    expect(html).toMatch(/<input id="password" name="password" type="password"/);
    expect(html).toMatch(/<button[^>]*type="submit"[^>]*>Sign In<\/button>/);
    expect(html).not.toContain("Invalid username or password.");
  });

  it("rejects a wrong password with a visible error and keeps the username", async () => {
    const browser = new Browser();
    const page = await browser.follow(authRequest(kc).url);
    const done = await submitLogin(
      browser,
      page.url,
      await page.res!.text(),
      "alice",
      "not-the-password",
    );
    expect(done.res?.status).toBe(200);
    const html = await done.res!.text();
    expect(html).toMatch(/role="alert"[^>]*>Invalid username or password\.</);
    expect(html).toContain('value="alice"');
    expect(html).toContain("Sign In");
  });

  it("rejects an unknown user the same way", async () => {
    const browser = new Browser();
    const page = await browser.follow(authRequest(kc).url);
    const done = await submitLogin(
      browser,
      page.url,
      await page.res!.text(),
      "mallory",
      "whatever",
    );
    expect(await done.res!.text()).toContain("Invalid username or password.");
  });

  it("signs in with PKCE, returns state and iss, and issues ID, access and refresh tokens", async () => {
    const browser = new Browser();
    const req = authRequest(kc);
    const page = await browser.follow(req.url);
    const done = await submitLogin(
      browser,
      page.url,
      await page.res!.text(),
      "alice",
      password("alice"),
    );
    expect(done.res).toBeUndefined();
    const callback = new URL(done.url);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get("state")).toBe(req.state);
    expect(callback.searchParams.get("iss")).toBe(kc.issuer);
    const code = callback.searchParams.get("code")!;
    expect(code).toBeTruthy();

    const res = await exchangeCode(kc, code, req.verifier);
    expect(res.status).toBe(200);
    const tokens = (await res.json()) as TokenSet;
    expect(tokens.token_type).toBe("Bearer");
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.expires_in).toBeGreaterThan(0);

    const { payload: id } = await jwtVerify(tokens.id_token, jwks, {
      issuer: kc.issuer,
      audience: CLIENT_ID,
    });
    const alice = kc.getUser("alice")!;
    expect(id).toMatchObject({
      sub: alice.id,
      nonce: req.nonce,
      preferred_username: "alice",
      email: "alice@irc-now.test",
      email_verified: true,
      name: "Alice Liddell",
      given_name: "Alice",
      family_name: "Liddell",
    });
    expect(typeof id.sid).toBe("string");
    expect(typeof id.auth_time).toBe("number");

    // The code is single-use.
    const again = await exchangeCode(kc, code, req.verifier);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("accepts client_secret_post at the token endpoint too", async () => {
    const browser = new Browser();
    const req = authRequest(kc);
    const page = await browser.follow(req.url);
    const done = await submitLogin(
      browser,
      page.url,
      await page.res!.text(),
      "alice",
      password("alice"),
    );
    const code = new URL(done.url).searchParams.get("code")!;
    const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: req.verifier,
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      }),
    });
    expect(res.status).toBe(200);
  });

  it("rejects a wrong PKCE verifier and a wrong client secret", async () => {
    const browser = new Browser();
    const req = authRequest(kc);
    const page = await browser.follow(req.url);
    const done = await submitLogin(
      browser,
      page.url,
      await page.res!.text(),
      "alice",
      password("alice"),
    );
    const code = new URL(done.url).searchParams.get("code")!;

    const badSecret = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(CLIENT_ID, "wrong"),
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: req.verifier,
      }),
    });
    expect(badSecret.status).toBe(401);
    expect(((await badSecret.json()) as { error: string }).error).toBe("invalid_client");

    const badVerifier = await exchangeCode(kc, code, "x".repeat(43));
    expect(badVerifier.status).toBe(400);
    expect(((await badVerifier.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("requires PKCE for the portal client", async () => {
    const browser = new Browser();
    const url = authRequest(kc).url;
    url.searchParams.delete("code_challenge");
    url.searchParams.delete("code_challenge_method");
    const { res, url: landed } = await browser.follow(url, {}, REDIRECT_URI);
    expect(res).toBeUndefined();
    const back = new URL(landed);
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("code")).toBeNull();
  });

  it("refuses an unregistered redirect_uri with an error page instead of redirecting", async () => {
    const url = authRequest(kc, { redirect_uri: "http://evil.example/callback" }).url;
    const res = await new Browser().request(url);
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain("redirect_uri");
  });

  it("puts realm roles in the access token only, and irc-now-admin only for the admin", async () => {
    const admin = await signIn(kc, new Browser(), "admin", password("admin"));
    const alice = await signIn(kc, new Browser(), "alice", password("alice"));

    for (const { tokens } of [admin, alice]) {
      const id = decodeJwt(tokens.id_token);
      expect(id).not.toHaveProperty("realm_access");
      expect(id).not.toHaveProperty("resource_access");
    }

    const { payload: adminAt, protectedHeader } = await jwtVerify(admin.tokens.access_token, jwks, {
      issuer: kc.issuer,
      algorithms: ["RS256"],
    });
    expect(protectedHeader.typ).toBe("JWT");
    expect(adminAt).toMatchObject({
      sub: kc.getUser("admin")!.id,
      typ: "Bearer",
      azp: CLIENT_ID,
      aud: "account",
      preferred_username: "admin",
      email: "admin@irc-now.test",
      scope: expect.stringContaining("openid"),
    });
    expect((adminAt.realm_access as { roles: string[] }).roles).toContain("irc-now-admin");
    expect((adminAt.realm_access as { roles: string[] }).roles).toContain("default-roles-irc-now");
    expect(adminAt.resource_access).toMatchObject({
      account: { roles: expect.arrayContaining(["view-profile"]) },
    });
    expect(adminAt.sid).toBe(decodeJwt(admin.tokens.id_token).sid);

    const { payload: aliceAt } = await jwtVerify(alice.tokens.access_token, jwks, {
      issuer: kc.issuer,
    });
    expect(aliceAt.preferred_username).toBe("alice");
    expect((aliceAt.realm_access as { roles: string[] }).roles).not.toContain("irc-now-admin");
  });

  it("rejects a token signed by another key (the JWKS check is real)", async () => {
    const other = await startKeycloakStandin({ log: () => {} });
    try {
      const { tokens } = await signIn(other, new Browser(), "alice", other.users[0]!.password);
      expect(decodeProtectedHeader(tokens.access_token).kid).toBeTruthy();
      await expect(jwtVerify(tokens.access_token, jwks)).rejects.toThrow();
    } finally {
      await other.stop();
    }
  });

  it("serves userinfo for the JWT access token, without roles", async () => {
    const { tokens } = await signIn(kc, new Browser(), "admin", password("admin"));
    const res = await fetch(`${kc.issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      sub: kc.getUser("admin")!.id,
      preferred_username: "admin",
      email: "admin@irc-now.test",
    });
    expect(info).not.toHaveProperty("realm_access");

    const missing = await fetch(`${kc.issuer}/protocol/openid-connect/userinfo`);
    expect(missing.status).toBe(401);
    const idToken = await fetch(`${kc.issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${tokens.id_token}` },
    });
    expect(idToken.status).toBe(401);
  });

  it("refreshes tokens with the refresh_token grant", async () => {
    const { tokens } = await signIn(kc, new Browser(), "admin", password("admin"));
    const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(CLIENT_ID, CLIENT_SECRET),
      },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
      }),
    });
    expect(res.status).toBe(200);
    const refreshed = (await res.json()) as TokenSet;
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const { payload } = await jwtVerify(refreshed.access_token, jwks, { issuer: kc.issuer });
    expect((payload.realm_access as { roles: string[] }).roles).toContain("irc-now-admin");
    const { payload: id } = await jwtVerify(refreshed.id_token, jwks, {
      issuer: kc.issuer,
      audience: CLIENT_ID,
    });
    expect(id.preferred_username).toBe("admin");
  });

  it("reuses the SSO session: a second authorization request skips the login page", async () => {
    const browser = new Browser();
    await signIn(kc, browser, "alice", password("alice"));
    const req = authRequest(kc);
    const { res, url } = await browser.follow(req.url, {}, REDIRECT_URI);
    expect(res).toBeUndefined();
    expect(new URL(url).searchParams.get("code")).toBeTruthy();
    const tokens = (await (
      await exchangeCode(kc, new URL(url).searchParams.get("code")!, req.verifier)
    ).json()) as TokenSet;
    expect(decodeJwt(tokens.id_token).preferred_username).toBe("alice");
  });

  it("lets a user added at runtime sign in, and refuses a disabled one", async () => {
    kc.addUser({
      username: "carol",
      password: "carol-pw",
      email: "carol@irc-now.test",
      realmRoles: ["irc-now-admin"],
    });
    const { tokens } = await signIn(kc, new Browser(), "carol@irc-now.test", "carol-pw");
    expect((decodeJwt(tokens.access_token).realm_access as { roles: string[] }).roles).toContain(
      "irc-now-admin",
    );

    kc.addUser({ username: "dave", password: "dave-pw", enabled: false });
    const browser = new Browser();
    const page = await browser.follow(authRequest(kc).url);
    const done = await submitLogin(browser, page.url, await page.res!.text(), "dave", "dave-pw");
    expect(done.res?.status).toBe(200);
    expect(await done.res!.text()).toContain("Account is disabled");
  });
});
