// Drives the stand-in with the relying-party library next-auth v4 itself loads
// (openid-client v5, nested under next-auth), making the calls next-auth's OAuth callback
// makes for its Keycloak provider: discovery, PKCE + state, callback() with ID token
// validation, claims() as the profile. Skipped only when next-auth is not installed.
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import { Browser, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, submitLogin } from "./helpers";

interface V5TokenSet {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  claims(): Record<string, unknown>;
}
interface V5Client {
  authorizationUrl(params: Record<string, string>): string;
  callbackParams(input: { url: string; method: string; body?: unknown }): Record<string, string>;
  callback(
    redirectUri: string,
    params: Record<string, string>,
    checks: Record<string, string>,
  ): Promise<V5TokenSet>;
  endSessionUrl(params: Record<string, string>): string;
  userinfo(accessToken: string): Promise<Record<string, unknown>>;
  refresh(refreshToken: string): Promise<V5TokenSet>;
}
interface OpenIdClientV5 {
  Issuer: {
    discover(url: string): Promise<{
      metadata: Record<string, unknown>;
      Client: new (metadata: Record<string, unknown>) => V5Client;
    }>;
  };
  generators: { codeVerifier(): string; codeChallenge(verifier: string): string; state(): string };
  custom: { clock_tolerance: symbol };
}

/** The openid-client copy next-auth itself loads (next-auth is a dependency of apps/web). */
function loadNextAuthOpenIdClient(): OpenIdClientV5 {
  const require = createRequire(import.meta.url);
  const nextAuth = require.resolve("next-auth");
  return require(
    require.resolve("openid-client", { paths: [dirname(nextAuth)] }),
  ) as OpenIdClientV5;
}

const oc = loadNextAuthOpenIdClient();

describe("Keycloak stand-in: next-auth's openid-client (v5) flow", () => {
  let kc: KeycloakStandin;
  let client: V5Client;

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {} });
    const issuer = await oc.Issuer.discover(`${kc.issuer}/.well-known/openid-configuration`);
    expect(issuer.metadata.issuer).toBe(kc.issuer);
    client = new issuer.Client({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [REDIRECT_URI],
    });
    (client as unknown as Record<symbol, number>)[oc.custom.clock_tolerance] = 10;
  });
  afterAll(async () => {
    await kc?.stop();
  });

  const signInAs = async (username: string) => {
    const verifier = oc.generators.codeVerifier();
    const state = oc.generators.state();
    const url = client.authorizationUrl({
      scope: "openid email profile",
      code_challenge: oc.generators.codeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const browser = new Browser();
    const page = await browser.follow(url);
    const password = kc.users.find((u) => u.username === username)!.password;
    const done = await submitLogin(browser, page.url, await page.res!.text(), username, password);
    const query = new URL(done.url).searchParams;
    const params = client.callbackParams({ url: `http://n?${query}`, method: "GET" });
    return {
      tokens: await client.callback(REDIRECT_URI, params, { state, code_verifier: verifier }),
      browser,
    };
  };

  it("completes the callback with a validated ID token and maps the profile", async () => {
    const { tokens } = await signInAs("alice");
    const profile = tokens.claims();
    expect(profile).toMatchObject({
      sub: kc.getUser("alice")!.id,
      name: "Alice Liddell",
      preferred_username: "alice",
      email: "alice@irc-now.test",
    });
    expect(profile).not.toHaveProperty("realm_access");
    expect(await client.userinfo(tokens.access_token!)).toMatchObject({
      preferred_username: "alice",
    });
  });

  it("gives the admin's access token irc-now-admin for the jwt callback to decode", async () => {
    const { tokens } = await signInAs("admin");
    const at = decodeJwt(tokens.access_token!);
    expect((at.realm_access as { roles: string[] }).roles).toContain("irc-now-admin");
    const refreshed = await client.refresh(tokens.refresh_token!);
    expect(refreshed.claims().preferred_username).toBe("admin");
  });

  it("builds an end-session URL that logs out without a confirmation page", async () => {
    const { tokens, browser } = await signInAs("alice");
    const url = client.endSessionUrl({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: "http://localhost:3000/",
    });
    expect(url.startsWith(`${kc.issuer}/protocol/openid-connect/logout?`)).toBe(true);
    const res = await browser.request(url);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://localhost:3000/");
  });
});
