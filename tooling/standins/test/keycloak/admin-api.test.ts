import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import { basicAuth, Browser, serviceAccountToken, signIn } from "./helpers";

interface UserRep {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  emailVerified: boolean;
  enabled: boolean;
  attributes?: Record<string, string[]>;
}

describe("Keycloak stand-in: service account and admin REST API", () => {
  let kc: KeycloakStandin;
  let token: string;

  /** `bearer`: null sends no Authorization header. */
  const api = (path: string, init: RequestInit = {}, bearer: string | null = token) =>
    fetch(`${kc.adminUrl}${path}`, {
      ...init,
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
    });
  const getUser = async (id: string) => (await (await api(`/users/${id}`)).json()) as UserRep;
  const put = (id: string, body: unknown, bearer: string | null = token) =>
    api(`/users/${id}`, { method: "PUT", body: JSON.stringify(body) }, bearer);

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      serviceAccounts: [
        { clientId: "irc-now-admin-api", clientSecret: "irc-now-admin-api-secret" },
        {
          clientId: "read-only",
          clientSecret: "read-only-secret",
          realmManagementRoles: ["view-users", "query-users"],
        },
      ],
      users: [
        {
          username: "alice",
          password: "pw",
          email: "alice@irc-now.test",
          firstName: "Alice",
          attributes: { plan: ["free"] },
        },
        { username: "alicia", password: "pw", email: "alicia@irc-now.test" },
        {
          username: "carol",
          email: "carol@irc-now.test",
          firstName: "Carol",
          lastName: "Ann",
          attributes: { plan: ["free"] },
        },
        {
          username: "bob",
          password: "pw",
          email: "bob@irc-now.test",
          attributes: { plan: ["pro"], content_expires: ["true"] },
        },
      ],
    });
    token = await serviceAccountToken(kc);
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("issues a service-account JWT by client_credentials (Basic or form secrets)", async () => {
    const endpoint = `${kc.issuer}/protocol/openid-connect/token`;
    const basic = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth("irc-now-admin-api", "irc-now-admin-api-secret"),
      },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(basic.status).toBe(200);
    const body = (await basic.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: "Bearer", scope: "profile email" });
    expect(body.expires_in).toBeGreaterThan(0);
    expect(body).not.toHaveProperty("refresh_token");

    const jwks = createRemoteJWKSet(new URL(`${kc.issuer}/protocol/openid-connect/certs`));
    const { payload } = await jwtVerify(body.access_token as string, jwks, { issuer: kc.issuer });
    expect(payload).toMatchObject({
      azp: "irc-now-admin-api",
      preferred_username: "service-account-irc-now-admin-api",
      resource_access: {
        "realm-management": {
          roles: expect.arrayContaining(["view-users", "query-users", "manage-users"]),
        },
      },
    });

    const form = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: "irc-now-admin-api",
        client_secret: "irc-now-admin-api-secret",
      }),
    });
    expect(form.status).toBe(200);

    const wrong = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth("irc-now-admin-api", "nope"),
      },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(wrong.status).toBe(401);
  });

  it("refuses client_credentials to the login client", async () => {
    const res = await fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth("account-portal", "account-portal-secret"),
      },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).not.toHaveProperty("access_token");
  });

  it("looks users up by exact username, and by infix without exact", async () => {
    const exact = (await (await api("/users?username=alice&exact=true")).json()) as UserRep[];
    expect(exact.map((u) => u.username)).toEqual(["alice"]);
    expect(exact[0]).toMatchObject({
      id: kc.getUser("alice")!.id,
      email: "alice@irc-now.test",
      attributes: { plan: ["free"] },
    });

    const infix = (await (await api("/users?username=lic")).json()) as UserRep[];
    expect(infix.map((u) => u.username)).toEqual(["alice", "alicia"]);

    const byEmail = (await (
      await api("/users?email=BOB@irc-now.test&exact=true")
    ).json()) as UserRep[];
    expect(byEmail.map((u) => u.username)).toEqual(["bob"]);

    const none = (await (await api("/users?username=ali&exact=true")).json()) as UserRep[];
    expect(none).toEqual([]);

    const all = (await (await api("/users")).json()) as UserRep[];
    expect(all.map((u) => u.username)).toEqual(["alice", "alicia", "bob", "carol"]); // service accounts are not listed
  });

  it("reads one user by id, and 404s an unknown id", async () => {
    const id = kc.getUser("bob")!.id;
    const res = await api(`/users/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id,
      username: "bob",
      email: "bob@irc-now.test",
      emailVerified: true,
      enabled: true,
      attributes: { plan: ["pro"], content_expires: ["true"] },
    });
    expect((await api("/users/00000000-0000-0000-0000-000000000000")).status).toBe(404);
  });

  it("PUT without attributes updates top-level fields and keeps the attributes", async () => {
    const id = kc.getUser("alice")!.id;
    const res = await put(id, {
      firstName: "Alicia",
      lastName: "Liddell",
      email: "alice.l@irc-now.test",
    });
    expect(res.status).toBe(204);
    const user = await getUser(id);
    expect(user).toMatchObject({
      username: "alice",
      firstName: "Alicia",
      lastName: "Liddell",
      email: "alice.l@irc-now.test",
      emailVerified: true, // changing email through the admin API leaves it alone
      attributes: { plan: ["free"] },
    });
  });

  it("PUT with attributes replaces the whole attribute map", async () => {
    const id = kc.getUser("bob")!.id;
    const res = await put(id, {
      username: "bob",
      email: "bob@irc-now.test",
      attributes: { plan: ["free"] },
    });
    expect(res.status).toBe(204);
    const user = await getUser(id);
    expect(user.attributes).toEqual({ plan: ["free"] }); // content_expires is gone
    expect(kc.getUser("bob")!.attributes).toEqual({ plan: ["free"] });

    // The safe way: GET, merge, PUT the full representation.
    const merged = { ...user, attributes: { ...user.attributes, content_expires: ["false"] } };
    expect((await put(id, merged)).status).toBe(204);
    expect((await getUser(id)).attributes).toEqual({ plan: ["free"], content_expires: ["false"] });
  });

  it("PUT with attributes is the whole profile: omitted email and names are cleared (24.0.4+)", async () => {
    const id = kc.getUser("carol")!.id;
    const res = await put(id, { username: "carol", attributes: { plan: ["pro"] } });
    expect(res.status).toBe(204);
    const user = await getUser(id);
    expect(user).toMatchObject({ username: "carol", attributes: { plan: ["pro"] } });
    expect(user.email).toBeUndefined();
    expect(user.firstName).toBeUndefined();
    expect(user.lastName).toBeUndefined();
  });

  it("PUT with attributes but without username is a 400 'User name is missing'", async () => {
    const id = kc.getUser("bob")!.id;
    const before = await getUser(id);
    const res = await put(id, { attributes: { plan: ["pro"] } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errorMessage: "User name is missing" });
    expect((await getUser(id)).attributes).toEqual(before.attributes);
  });

  it("PUT with a taken username or email is a 409", async () => {
    const id = kc.getUser("alicia")!.id;
    const byName = await put(id, { username: "bob" });
    expect(byName.status).toBe(409);
    expect(await byName.json()).toEqual({
      errorMessage: "User exists with same username or email",
    });
    const byEmail = await put(id, { email: "BOB@irc-now.test" });
    expect(byEmail.status).toBe(409);
    expect(await byEmail.json()).toEqual({
      errorMessage: "User exists with same username or email",
    });
    expect((await getUser(id)).username).toBe("alicia");
    expect((await getUser(id)).email).toBe("alicia@irc-now.test");
  });

  it("requires a valid bearer token (401) and manage-users for PUT (403)", async () => {
    const id = kc.getUser("alice")!.id;
    expect((await api("/users?username=alice", {}, null)).status).toBe(401);
    expect((await api(`/users/${id}`, {}, "not-a-jwt")).status).toBe(401);
    expect((await put(id, { firstName: "X" }, null)).status).toBe(401);

    // A user's own access token carries no realm-management roles.
    const { tokens } = await signIn(kc, new Browser(), "alice", "pw");
    expect((await api("/users?username=alice", {}, tokens.access_token)).status).toBe(403);

    const readOnly = await serviceAccountToken(kc, "read-only", "read-only-secret");
    expect((await api(`/users/${id}`, {}, readOnly)).status).toBe(200);
    const denied = await put(id, { firstName: "X" }, readOnly);
    expect(denied.status).toBe(403);
    expect((await getUser(id)).firstName).not.toBe("X");
  });

  it("refuses tokens from another realm's keys", async () => {
    const other = await startKeycloakStandin({ log: () => {}, port: 0 });
    try {
      const foreign = await serviceAccountToken(other);
      expect((await api("/users", {}, foreign)).status).toBe(401);
    } finally {
      await other.stop();
    }
  });
});

describe("Keycloak stand-in: user profile with unmanaged attributes disabled", () => {
  let kc: KeycloakStandin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      unmanagedAttributePolicy: "DISABLED",
      managedAttributes: ["plan"],
    });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("silently drops undeclared attributes (still 204), as Keycloak 24+ does", async () => {
    const token = await serviceAccountToken(kc);
    const alice = kc.getUser("alice")!;
    const res = await fetch(`${kc.adminUrl}/users/${alice.id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        username: "alice",
        attributes: { plan: ["pro"], content_expires: ["true"] },
      }),
    });
    expect(res.status).toBe(204);
    expect(kc.getUser("alice")!.attributes).toEqual({ plan: ["pro"] });
  });
});
