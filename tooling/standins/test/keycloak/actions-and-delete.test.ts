import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startKeycloakStandin,
  type KeycloakStandin,
  type SentActionsEmail,
} from "../../src/keycloak";
import { Browser, serviceAccountToken, signIn } from "./helpers";

describe("Keycloak stand-in: execute-actions-email and user deletion", () => {
  let kc: KeycloakStandin;
  let token: string;

  const api = (path: string, init: RequestInit = {}, bearer = token) =>
    fetch(`${kc.adminUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(init.body ? { "content-type": "application/json" } : {}),
      },
    });
  const actionsEmail = (username: string, actions: unknown, query = "", bearer = token) =>
    api(
      `/users/${kc.getUser(username)!.id}/execute-actions-email${query}`,
      { method: "PUT", body: JSON.stringify(actions) },
      bearer,
    );

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
        { username: "alice", password: "pw", email: "alice@irc-now.test" },
        { username: "noemail", password: "pw" },
        { username: "gone", password: "pw", email: "gone@irc-now.test" },
      ],
    });
    token = await serviceAccountToken(kc);
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("records a verify-email mail (204), readable from the stand-in and over its test endpoint", async () => {
    const res = await actionsEmail(
      "alice",
      ["VERIFY_EMAIL"],
      "?client_id=account-portal&redirect_uri=" +
        encodeURIComponent("http://localhost:3000/api/auth/callback/keycloak") +
        "&lifespan=600",
    );
    expect(res.status).toBe(204);
    const expected = {
      userId: kc.getUser("alice")!.id,
      username: "alice",
      email: "alice@irc-now.test",
      actions: ["VERIFY_EMAIL"],
      clientId: "account-portal",
      redirectUri: "http://localhost:3000/api/auth/callback/keycloak",
      lifespanS: 600,
    };
    expect(kc.sentEmails("alice")).toEqual([expect.objectContaining(expected)]);
    const overHttp = await fetch(`${kc.origin}/_standin/emails?username=ALICE`);
    expect(overHttp.status).toBe(200);
    expect((await overHttp.json()) as SentActionsEmail[]).toEqual([
      expect.objectContaining(expected),
    ]);
  });

  it("defaults to Keycloak's account-console client and 12 h lifespan", async () => {
    expect((await actionsEmail("alice", ["UPDATE_PASSWORD"])).status).toBe(204);
    expect(kc.sentEmails("alice").at(-1)).toMatchObject({
      actions: ["UPDATE_PASSWORD"],
      clientId: "account-console",
      lifespanS: 43_200,
    });
  });

  it("refuses as Keycloak does: no email, unknown client or redirect, bad actions, no manage-users", async () => {
    const before = kc.sentEmails().length;
    const refused = async (res: Response, status: number, body?: unknown) => {
      expect(res.status).toBe(status);
      if (body !== undefined) expect(await res.json()).toEqual(body);
    };
    await refused(await actionsEmail("noemail", ["VERIFY_EMAIL"]), 400, {
      errorMessage: "User email missing",
    });
    await refused(await actionsEmail("alice", ["VERIFY_EMAIL"], "?redirect_uri=http://x/"), 400, {
      errorMessage: "Client id missing",
    });
    await refused(await actionsEmail("alice", ["VERIFY_EMAIL"], "?client_id=nope"), 400, {
      errorMessage: "Client doesn't exist",
    });
    await refused(
      await actionsEmail(
        "alice",
        ["VERIFY_EMAIL"],
        "?client_id=account-portal&redirect_uri=" + encodeURIComponent("https://evil.example/"),
      ),
      400,
      { errorMessage: "Invalid redirect uri." },
    );
    await refused(await actionsEmail("alice", ["MAKE_COFFEE"]), 400, {
      errorMessage: "Provided invalid required actions",
    });
    await refused(await actionsEmail("alice", { actions: [] }), 400);
    const readOnly = await serviceAccountToken(kc, "read-only", "read-only-secret");
    await refused(await actionsEmail("alice", ["VERIFY_EMAIL"], "", readOnly), 403);
    expect(kc.sentEmails().length).toBe(before);
  });

  it("deletes a user (204), then answers 404; the user can no longer sign in", async () => {
    const id = kc.getUser("gone")!.id;
    const readOnly = await serviceAccountToken(kc, "read-only", "read-only-secret");
    expect((await api(`/users/${id}`, { method: "DELETE" }, readOnly)).status).toBe(403);
    expect((await api(`/users/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await api(`/users/${id}`)).status).toBe(404);
    expect((await api(`/users/${id}`, { method: "DELETE" })).status).toBe(404);
    expect(
      (await api(`/users/${id}/execute-actions-email`, { method: "PUT", body: "[]" })).status,
    ).toBe(404);
    expect(kc.getUser("gone")).toBeUndefined();
    await expect(signIn(kc, new Browser(), "gone", "pw")).rejects.toThrow(/no redirect back/);
  });
});
