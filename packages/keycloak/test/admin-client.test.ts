import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  keycloakDefaultUserProfile,
  startKeycloakStandin,
  type KeycloakStandin,
} from "@irc-now/standins/keycloak";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createKeycloakAdmin,
  KeycloakAdminError,
  keycloakUserState,
  type KeycloakAdmin,
  type KeycloakAdminOptions,
} from "../src";

const SECRET = "irc-now-admin-api-secret";

/** fetch that counts the token requests it passes on (the wire is still real). */
function countingFetch() {
  const counts = { token: 0, admin: 0 };
  const fetchFn: typeof fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith("/protocol/openid-connect/token")) counts.token++;
    else counts.admin++;
    return fetch(input, init);
  };
  return { counts, fetchFn };
}

function adminFor(kc: KeycloakStandin, extra: Partial<KeycloakAdminOptions> = {}) {
  return createKeycloakAdmin({
    issuer: kc.issuer,
    clientId: "irc-now-admin-api",
    clientSecret: SECRET,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<KeycloakAdminError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KeycloakAdminError) return err;
    throw err;
  }
  throw new Error("expected a KeycloakAdminError");
}

const users = () => [
  {
    username: "alice",
    password: "pw",
    email: "alice@irc-now.test",
    firstName: "Alice",
    lastName: "Liddell",
    attributes: { plan: ["free"], locale: ["en"], "other-service": ["keep-me"] },
  },
  { username: "bob", password: "pw", email: "bob@irc-now.test" },
];

describe("createKeycloakAdmin against the Keycloak stand-in (user profile declares plan, content_expires)", () => {
  let kc: KeycloakStandin;
  let admin: KeycloakAdmin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {}, users: users() });
    admin = adminFor(kc);
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("reads a user, and null for one Keycloak does not have", async () => {
    const alice = kc.getUser("alice")!;
    const user = await admin.getUser(alice.id);
    expect(user).toMatchObject({ id: alice.id, username: "alice", email: "alice@irc-now.test" });
    expect(await admin.getUser("00000000-0000-0000-0000-000000000000")).toBeNull();
  });

  it("pushes plan and content_expires and the name, keeping every other attribute and the email", async () => {
    const alice = kc.getUser("alice")!;
    await admin.pushUserState(
      alice.id,
      keycloakUserState({ plan: "pro", contentAutoExpire: false, displayName: "Alice P. Liddell" }),
    );
    const after = kc.getUser("alice")!;
    expect(after.attributes).toEqual({
      plan: ["pro"],
      content_expires: ["false"],
      locale: ["en"],
      "other-service": ["keep-me"],
    });
    expect(after).toMatchObject({
      firstName: "Alice",
      lastName: "P. Liddell",
      email: "alice@irc-now.test",
      emailVerified: alice.emailVerified,
      enabled: true,
    });
  });

  it("answers not_found when pushing to a user that is gone", async () => {
    const err = await failure(
      admin.pushUserState(
        "00000000-0000-0000-0000-000000000000",
        keycloakUserState({ plan: "free", contentAutoExpire: true, displayName: "X" }),
      ),
    );
    expect(err.kind).toBe("not_found");
  });

  it("turns a duplicate email into conflict, changing nothing", async () => {
    const bob = kc.getUser("bob")!;
    const err = await failure(admin.changeEmail(bob.id, "ALICE@irc-now.test"));
    expect(err.kind).toBe("conflict");
    expect(err.status).toBe(409);
    expect(err.message).toContain("User exists with same username or email");
    expect(kc.getUser("bob")!.email).toBe("bob@irc-now.test");
  });

  it("changes the email unverified, keeps attributes and names, and sends the verify-email action", async () => {
    const alice = kc.getUser("alice")!;
    expect(alice.emailVerified).toBe(true);
    await admin.changeEmail(alice.id, "alice.new@irc-now.test");
    const after = kc.getUser("alice")!;
    expect(after).toMatchObject({
      email: "alice.new@irc-now.test",
      emailVerified: false,
      username: "alice",
      firstName: alice.firstName,
      lastName: alice.lastName,
      attributes: alice.attributes,
    });
    expect(kc.sentEmails("alice")).toEqual([
      expect.objectContaining({ email: "alice.new@irc-now.test", actions: ["VERIFY_EMAIL"] }),
    ]);
  });

  it("passes client_id, redirect_uri and lifespan to execute-actions-email when configured", async () => {
    const bob = kc.getUser("bob")!;
    const configured = adminFor(kc, {
      actionsEmail: {
        clientId: "account-portal",
        redirectUri: "http://localhost:3000/api/auth/callback/keycloak",
        lifespanS: 3600,
      },
    });
    await configured.executeActionsEmail(bob.id, ["VERIFY_EMAIL"]);
    expect(kc.sentEmails("bob").at(-1)).toMatchObject({
      clientId: "account-portal",
      redirectUri: "http://localhost:3000/api/auth/callback/keycloak",
      lifespanS: 3600,
    });
  });

  it("deletes a user, and deleting again is done too", async () => {
    const carol = kc.addUser({ username: "carol", email: "carol@irc-now.test" });
    await admin.deleteUser(carol.id);
    expect(kc.getUser("carol")).toBeUndefined();
    await admin.deleteUser(carol.id);
    expect(await admin.getUser(carol.id)).toBeNull();
  });

  it("refetches the token once when Keycloak revoked it, and goes on", async () => {
    const { counts, fetchFn } = countingFetch();
    const counted = adminFor(kc, { fetch: fetchFn });
    const alice = kc.getUser("alice")!;
    await counted.getUser(alice.id);
    kc.revokeAccessTokens();
    expect(await counted.getUser(alice.id)).toMatchObject({ id: alice.id });
    await counted.getUser(alice.id);
    // token, GET (200) | GET (401), token, GET (200) | GET (200)
    expect(counts).toEqual({ token: 2, admin: 4 });
  });

  it("is unavailable during an outage and works again after it, with the same client", async () => {
    const alice = kc.getUser("alice")!;
    await admin.getUser(alice.id);
    const outage = await kc.outage();
    try {
      const err = await failure(admin.getUser(alice.id));
      expect(err.kind).toBe("unavailable");
    } finally {
      await outage.restore();
    }
    expect(await admin.getUser(alice.id)).toMatchObject({ id: alice.id });
  });

  it("asks for one token for many calls", async () => {
    const { counts, fetchFn } = countingFetch();
    const counted = adminFor(kc, { fetch: fetchFn });
    const alice = kc.getUser("alice")!;
    await Promise.all([counted.getUser(alice.id), counted.getUser(alice.id)]);
    for (let i = 0; i < 5; i++) await counted.getUser(alice.id);
    expect(counts).toEqual({ token: 1, admin: 7 });
  });

  it("never reuses a token whose lifetime is shorter than its safety margin", async () => {
    const shortLived = await startKeycloakStandin({
      log: () => {},
      users: users(),
      accessTokenLifespanSeconds: 5,
    });
    try {
      const { counts, fetchFn } = countingFetch();
      const counted = adminFor(shortLived, { fetch: fetchFn });
      const alice = shortLived.getUser("alice")!;
      for (let i = 0; i < 3; i++) await counted.getUser(alice.id);
      expect(counts).toEqual({ token: 3, admin: 3 });
    } finally {
      await shortLived.stop();
    }
  });

  it("says unauthorized for a wrong secret, without the secret or a token in the message", async () => {
    const wrong = "wrong-secret-d2f1";
    const err = await failure(
      adminFor(kc, { clientSecret: wrong }).getUser(kc.getUser("alice")!.id),
    );
    expect(err.kind).toBe("unauthorized");
    expect(err.message).not.toContain(wrong);
    expect(err.message).not.toContain(SECRET);
  });

  it("says unauthorized when the service account lacks manage-users", async () => {
    const readOnly = await startKeycloakStandin({
      log: () => {},
      users: users(),
      serviceAccounts: [
        {
          clientId: "irc-now-admin-api",
          clientSecret: SECRET,
          realmManagementRoles: ["view-users", "query-users"],
        },
      ],
    });
    try {
      const alice = readOnly.getUser("alice")!;
      const err = await failure(
        adminFor(readOnly).pushUserState(
          alice.id,
          keycloakUserState({ plan: "pro", contentAutoExpire: true, displayName: "A" }),
        ),
      );
      expect(err.kind).toBe("unauthorized");
      expect(err.status).toBe(403);
      expect(readOnly.getUser("alice")!.attributes.plan).toEqual(["free"]);
    } finally {
      await readOnly.stop();
    }
  });
});

describe("createKeycloakAdmin against a realm whose user profile does not declare the attributes", () => {
  let kc: KeycloakStandin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      users: users(),
      // Keycloak 24's default profile plus the other services' attributes, not ours.
      userProfile: {
        ...keycloakDefaultUserProfile(),
        unmanagedAttributePolicy: undefined,
        attributes: [
          ...keycloakDefaultUserProfile().attributes,
          { name: "locale", permissions: { view: ["admin"], edit: ["admin"] } },
          { name: "other-service", permissions: { view: ["admin"], edit: ["admin"] } },
        ],
      },
    });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("loses plan and content_expires although Keycloak answers 2xx (the realm must declare them)", async () => {
    const alice = kc.getUser("alice")!;
    await adminFor(kc).pushUserState(
      alice.id,
      keycloakUserState({ plan: "pro", contentAutoExpire: true, displayName: "Alice" }),
    );
    // Keycloak keeps what it stored before the profile dropped the declaration ("free"), hides
    // it from the admin API, and ignores the push ("pro").
    const after = kc.getUser("alice")!;
    expect(after.attributes.plan).toEqual(["free"]);
    expect(after.attributes.content_expires).toBeUndefined();
    expect(after.attributes.locale).toEqual(["en"]);
    expect((await adminFor(kc).getUser(alice.id))?.attributes).toEqual({
      locale: ["en"],
      "other-service": ["keep-me"],
    });
  });
});

describe("createKeycloakAdmin when Keycloak is not there", () => {
  let hung: Server | undefined;
  afterEach(async () => {
    if (hung) {
      hung.closeAllConnections();
      await new Promise((resolve) => hung!.close(resolve));
      hung = undefined;
    }
  });

  it("is unavailable on a closed port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const admin = createKeycloakAdmin({
      issuer: `http://127.0.0.1:${port}/realms/irc-now`,
      clientId: "irc-now-admin-api",
      clientSecret: SECRET,
    });
    const err = await failure(admin.getUser("some-id"));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/unreachable \(ECONNREFUSED\)/);
    expect(err.message).not.toContain(SECRET);
  });

  it("is unavailable when Keycloak accepts the connection and never answers (deadline)", async () => {
    hung = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => hung!.listen(0, "127.0.0.1", resolve));
    const { port } = hung.address() as AddressInfo;
    const admin = createKeycloakAdmin({
      issuer: `http://127.0.0.1:${port}/realms/irc-now`,
      clientId: "irc-now-admin-api",
      clientSecret: SECRET,
      timeoutMs: 200,
    });
    const err = await failure(admin.deleteUser("some-id"));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain("no answer within 200 ms");
    expect(err.message).not.toContain(SECRET);
  });

  it("keeps the secret and the token out of messages even when a server echoes them", async () => {
    const token = "eyJ-token-that-must-not-leak";
    hung = createServer((req, res) => {
      if (req.url?.endsWith("/protocol/openid-connect/token")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ access_token: token, expires_in: 300 }));
        return;
      }
      const basic = Buffer.from(SECRET).toString("base64");
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ errorMessage: `${req.headers.authorization} ${SECRET} ${basic}` }));
    });
    await new Promise<void>((resolve) => hung!.listen(0, "127.0.0.1", resolve));
    const { port } = hung.address() as AddressInfo;
    const admin = createKeycloakAdmin({
      issuer: `http://127.0.0.1:${port}/realms/irc-now`,
      clientId: "irc-now-admin-api",
      clientSecret: SECRET,
    });
    const err = await failure(admin.getUser("some-id"));
    expect(err.kind).toBe("unavailable");
    expect(err.status).toBe(502);
    expect(err.message).toContain("answered 502");
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(token);
  });

  it("refuses an issuer that is not a realm URL", () => {
    expect(() =>
      createKeycloakAdmin({ issuer: "https://kc.example/", clientId: "a", clientSecret: "b" }),
    ).toThrow(/\/realms\/<realm>/);
  });
});
