import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import {
  basicAuth,
  Browser,
  CLIENT_ID,
  CLIENT_SECRET,
  serviceAccountToken,
  signIn,
  type TokenSet,
} from "./helpers";

// What the portal's role refresh relies on: the refresh-token grant reads the user's roles and
// state afresh, and an admin can take a role away or disable the user through the admin API.
describe("Keycloak stand-in: role mappings, disabled users and the refresh-token grant", () => {
  let kc: KeycloakStandin;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  let admin: string;

  const refresh = (refreshToken: string) =>
    fetch(`${kc.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: basicAuth(CLIENT_ID, CLIENT_SECRET),
      },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken }),
    });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${kc.adminUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${admin}`,
        ...(init.body ? { "content-type": "application/json" } : {}),
      },
    });
  const realmRoles = async (accessToken: string) => {
    const { payload } = await jwtVerify(accessToken, jwks, { issuer: kc.issuer });
    return (payload.realm_access as { roles: string[] }).roles;
  };

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      users: [
        { username: "root", password: "pw", realmRoles: ["irc-now-admin"] },
        { username: "dave", password: "pw" },
        { username: "erin", password: "pw", realmRoles: ["irc-now-admin"] },
      ],
    });
    jwks = createRemoteJWKSet(new URL(`${kc.issuer}/protocol/openid-connect/certs`));
    admin = await serviceAccountToken(kc);
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("removes a realm role (role-mappings DELETE): the next refreshed token lacks it", async () => {
    const { tokens } = await signIn(kc, new Browser(), "root", "pw");
    expect(await realmRoles(tokens.access_token)).toContain("irc-now-admin");

    const role = await api("/roles/irc-now-admin");
    expect(role.status).toBe(200);
    const rep = (await role.json()) as { id: string; name: string; clientRole: boolean };
    expect(rep).toMatchObject({ name: "irc-now-admin", clientRole: false });

    const userId = kc.getUser("root")!.id;
    const mapped = (await (await api(`/users/${userId}/role-mappings/realm`)).json()) as {
      name: string;
    }[];
    expect(mapped.map((r) => r.name)).toContain("irc-now-admin");

    const removed = await api(`/users/${userId}/role-mappings/realm`, {
      method: "DELETE",
      body: JSON.stringify([rep]),
    });
    expect(removed.status).toBe(204);
    expect(kc.getUser("root")!.realmRoles).not.toContain("irc-now-admin");

    const res = await refresh(tokens.refresh_token!);
    expect(res.status).toBe(200);
    expect(await realmRoles(((await res.json()) as TokenSet).access_token)).not.toContain(
      "irc-now-admin",
    );

    // And back (POST), for completeness of the resource.
    const added = await api(`/users/${userId}/role-mappings/realm`, {
      method: "POST",
      body: JSON.stringify([rep]),
    });
    expect(added.status).toBe(204);
    expect(kc.getUser("root")!.realmRoles).toContain("irc-now-admin");
  });

  it("refuses a role mapping with a wrong id or an unknown role, as Keycloak does", async () => {
    const userId = kc.getUser("erin")!.id;
    const wrongId = await api(`/users/${userId}/role-mappings/realm`, {
      method: "DELETE",
      body: JSON.stringify([{ id: "00000000-0000-0000-0000-000000000000", name: "irc-now-admin" }]),
    });
    expect(wrongId.status).toBe(404);
    expect((await api("/roles/no-such-role")).status).toBe(404);
    expect(kc.getUser("erin")!.realmRoles).toContain("irc-now-admin");
  });

  it("lets a refresh token be used again (Keycloak's default), e.g. by two requests at once", async () => {
    const { tokens } = await signIn(kc, new Browser(), "dave", "pw");
    const [a, b] = await Promise.all([
      refresh(tokens.refresh_token!),
      refresh(tokens.refresh_token!),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  });

  it("refuses the refresh of a user disabled through the admin API (PUT enabled=false)", async () => {
    const { tokens } = await signIn(kc, new Browser(), "erin", "pw");
    const userId = kc.getUser("erin")!.id;
    const put = await api(`/users/${userId}`, {
      method: "PUT",
      body: JSON.stringify({ enabled: false }),
    });
    expect(put.status).toBe(204);
    const res = await refresh(tokens.refresh_token!);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  });
});
