import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";

describe("Keycloak stand-in: discovery", () => {
  let kc: KeycloakStandin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {} });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("serves an issuer shaped like Keycloak's on 127.0.0.1", () => {
    expect(kc.issuer).toBe(`http://127.0.0.1:${kc.port}/realms/irc-now`);
    expect(kc.realm).toBe("irc-now");
    expect(kc.adminUrl).toBe(`http://127.0.0.1:${kc.port}/admin/realms/irc-now`);
  });

  it("publishes the OpenID configuration at Keycloak's endpoint paths", async () => {
    const res = await fetch(`${kc.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, unknown>;
    const oidc = `${kc.issuer}/protocol/openid-connect`;
    expect(doc).toMatchObject({
      issuer: kc.issuer,
      authorization_endpoint: `${oidc}/auth`,
      token_endpoint: `${oidc}/token`,
      jwks_uri: `${oidc}/certs`,
      userinfo_endpoint: `${oidc}/userinfo`,
      end_session_endpoint: `${oidc}/logout`,
    });
    expect(doc.code_challenge_methods_supported).toEqual(["S256"]);
    expect(doc.response_types_supported).toContain("code");
    expect(doc.grant_types_supported).toEqual(
      expect.arrayContaining(["authorization_code", "refresh_token", "client_credentials"]),
    );
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
    expect(doc.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(["client_secret_basic", "client_secret_post"]),
    );
    expect(doc.id_token_signing_alg_values_supported).toContain("RS256");
    expect(doc.claims_supported).toEqual(
      expect.arrayContaining([
        "sub",
        "preferred_username",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
      ]),
    );
  });

  it("publishes an RS256 signing key without private parts", async () => {
    const res = await fetch(`${kc.issuer}/protocol/openid-connect/certs`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
    expect(typeof keys[0]!.kid).toBe("string");
    expect(keys[0]).not.toHaveProperty("d");
  });

  it("answers the realm URL with the realm's public info", async () => {
    const res = await fetch(kc.issuer);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      realm: "irc-now",
      "token-service": `${kc.issuer}/protocol/openid-connect`,
    });
  });

  it("does not serve another realm", async () => {
    const other = kc.issuer.replace("/realms/irc-now", "/realms/master");
    expect((await fetch(`${other}/.well-known/openid-configuration`)).status).toBe(404);
  });
});

describe("Keycloak stand-in: options", () => {
  it("uses a fixed port and realm when given, so the issuer stays stable", async () => {
    const probe = await startKeycloakStandin({ log: () => {} });
    const port = probe.port;
    await probe.stop();
    const kc = await startKeycloakStandin({ port, realm: "other", log: () => {} });
    try {
      expect(kc.issuer).toBe(`http://127.0.0.1:${port}/realms/other`);
      const doc = (await (await fetch(`${kc.issuer}/.well-known/openid-configuration`)).json()) as {
        issuer: string;
      };
      expect(doc.issuer).toBe(kc.issuer);
    } finally {
      await kc.stop();
    }
  });

  it("seeds alice and an irc-now-admin with passwords and UUIDs that survive a restart", async () => {
    const first = await startKeycloakStandin({ log: () => {} });
    const firstUsers = first.users.map((u) => ({ username: u.username, id: u.id }));
    await first.stop();
    const kc = await startKeycloakStandin({ log: () => {} });
    try {
      const alice = kc.users.find((u) => u.username === "alice");
      const admin = kc.users.find((u) => u.username === "admin");
      expect(alice?.password).toBeTruthy();
      expect(admin?.password).toBeTruthy();
      expect(alice?.realmRoles).not.toContain("irc-now-admin");
      expect(admin?.realmRoles).toContain("irc-now-admin");
      for (const u of kc.users)
        expect(u.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(kc.users.map((u) => ({ username: u.username, id: u.id }))).toEqual(firstUsers);
      expect(kc.getUser("ALICE")?.id).toBe(alice?.id);
      expect(kc.getUser(admin!.id)?.username).toBe("admin");
    } finally {
      await kc.stop();
    }
  });

  it("issues access tokens with the configured lifespan (Keycloak's 300 s by default)", async () => {
    const kc = await startKeycloakStandin({ log: () => {}, accessTokenLifespanSeconds: 120 });
    try {
      const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: "irc-now-admin-api",
          client_secret: "irc-now-admin-api-secret",
        }),
      });
      const body = (await res.json()) as { access_token: string; expires_in: number };
      expect(body.expires_in).toBe(120);
      const { exp, iat } = decodeJwt(body.access_token);
      expect(exp! - iat!).toBe(120);
    } finally {
      await kc.stop();
    }
  });

  it("rejects duplicate users", async () => {
    const kc = await startKeycloakStandin({ log: () => {} });
    try {
      expect(() => kc.addUser({ username: "Alice", password: "x" })).toThrow(
        /same username or email/,
      );
      expect(() => kc.addUser({ username: "alice2", email: "ALICE@irc-now.test" })).toThrow(
        /same username or email/,
      );
      const bob = kc.addUser({ username: "bob", email: "bob@irc-now.test", password: "bob-pw" });
      expect(kc.getUser("bob")).toEqual(bob);
    } finally {
      await kc.stop();
    }
  });
});
