import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ircNowUserProfile,
  keycloakDefaultUserProfile,
  startKeycloakStandin,
  type KeycloakStandin,
  type UserProfileConfig,
} from "../../src/keycloak";
import { serviceAccountToken } from "./helpers";

/** The realm's user profile (Keycloak 24+) driving what the admin API keeps. */
describe("Keycloak stand-in: the realm user profile", () => {
  let kc: KeycloakStandin;
  let token: string;
  let realmAdmin: string;

  const api = (path: string, init: RequestInit = {}, bearer = token) =>
    fetch(`${kc.adminUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(init.body ? { "content-type": "application/json" } : {}),
      },
    });
  const putUser = (username: string, body: Record<string, unknown>) =>
    api(`/users/${kc.getUser(username)!.id}`, {
      method: "PUT",
      body: JSON.stringify({ username, email: `${username}@irc-now.test`, ...body }),
    });
  const putProfile = (profile: UserProfileConfig, bearer = realmAdmin) =>
    api("/users/profile", { method: "PUT", body: JSON.stringify(profile) }, bearer);

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      userProfile: ircNowUserProfile(),
      serviceAccounts: [
        { clientId: "irc-now-admin-api", clientSecret: "irc-now-admin-api-secret" },
        {
          clientId: "realm-admin",
          clientSecret: "realm-admin-secret",
          realmManagementRoles: ["manage-realm", "manage-users"],
        },
      ],
      users: [
        {
          username: "alice",
          email: "alice@irc-now.test",
          attributes: { plan: ["free"], legacy: ["kept-in-store"] },
        },
        { username: "bob", email: "bob@irc-now.test" },
      ],
    });
    token = await serviceAccountToken(kc);
    realmAdmin = await serviceAccountToken(kc, "realm-admin", "realm-admin-secret");
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("serves the profile as Keycloak 24's UPConfig, declaring plan and content_expires admin-edit only", async () => {
    const res = await api("/users/profile");
    expect(res.status).toBe(200);
    const profile = (await res.json()) as UserProfileConfig;
    expect(profile.attributes.map((a) => a.name)).toEqual([
      "username",
      "email",
      "firstName",
      "lastName",
      "plan",
      "content_expires",
    ]);
    expect(profile.attributes.find((a) => a.name === "plan")).toMatchObject({
      permissions: { view: ["admin"], edit: ["admin"] },
      validations: { options: { options: ["free", "pro"] } },
    });
    expect(profile.unmanagedAttributePolicy).toBeUndefined();
  });

  it("hides undeclared attributes from the admin API and drops changes to them (still 204)", async () => {
    const id = kc.getUser("alice")!.id;
    const rep = (await (await api(`/users/${id}`)).json()) as { attributes?: unknown };
    expect(rep.attributes).toEqual({ plan: ["free"] });

    const res = await putUser("alice", {
      attributes: { plan: ["pro"], content_expires: ["false"], legacy: ["x"], other: ["y"] },
    });
    expect(res.status).toBe(204);
    expect(kc.getUser("alice")!.attributes).toEqual({
      plan: ["pro"],
      content_expires: ["false"],
      legacy: ["kept-in-store"],
    });
  });

  it("validates declared attributes with their validators (400 with Keycloak's field error)", async () => {
    const res = await putUser("bob", { attributes: { plan: ["gold"] } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      field: "plan",
      errorMessage: "error-invalid-value",
      params: ["plan", "gold"],
    });
    const two = await putUser("bob", { attributes: { plan: ["free", "pro"] } });
    expect(two.status).toBe(400);
    expect(((await two.json()) as { errorMessage: string }).errorMessage).toBe(
      "error-invalid-multivalued-size",
    );
    expect(kc.getUser("bob")!.attributes).toEqual({});
  });

  it("lets only a manage-realm admin replace the profile", async () => {
    expect((await putProfile(keycloakDefaultUserProfile(), token)).status).toBe(403);
    const broken = await putProfile({ attributes: [{ name: "email" }] });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({
      errorMessage: "The attributes username and email can not be removed",
    });
  });

  it("with the declarations removed, plan and content_expires are silently dropped; declared again, kept", async () => {
    expect((await putProfile(keycloakDefaultUserProfile())).status).toBe(200);
    const dropped = await putUser("bob", {
      attributes: { plan: ["pro"], content_expires: ["true"] },
    });
    expect(dropped.status).toBe(204);
    expect(kc.getUser("bob")!.attributes).toEqual({});

    expect((await putProfile(ircNowUserProfile())).status).toBe(200);
    const kept = await putUser("bob", { attributes: { plan: ["pro"], content_expires: ["true"] } });
    expect(kept.status).toBe(204);
    expect(kc.getUser("bob")!.attributes).toEqual({ plan: ["pro"], content_expires: ["true"] });
  });

  it("refuses an admin's change to a declared attribute admins may only view", async () => {
    const profile = ircNowUserProfile();
    profile.attributes.push({
      name: "signup_source",
      permissions: { view: ["admin"], edit: [] },
    });
    expect((await putProfile(profile)).status).toBe(200);
    const res = await putUser("bob", {
      attributes: { plan: ["pro"], content_expires: ["true"], signup_source: ["web"] },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      field: "signup_source",
      errorMessage: "error-user-attribute-read-only",
      params: ["signup_source"],
    });
  });

  it("keeps every attribute with unmanagedAttributePolicy ENABLED", async () => {
    expect(
      (await putProfile({ ...ircNowUserProfile(), unmanagedAttributePolicy: "ENABLED" })).status,
    ).toBe(200);
    const res = await putUser("bob", { attributes: { plan: ["free"], other: ["y"] } });
    expect(res.status).toBe(204);
    expect(kc.getUser("bob")!.attributes).toEqual({ plan: ["free"], other: ["y"] });
    expect(kc.userProfile().unmanagedAttributePolicy).toBe("ENABLED");
  });
});
