import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startKeycloakStandin, type KeycloakStandin } from "@irc-now/standins/keycloak";
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
      unmanagedAttributePolicy: "DISABLED",
      managedAttributes: ["locale", "other-service"],
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
    const after = kc.getUser("alice")!;
    expect(after.attributes.plan).toBeUndefined();
    expect(after.attributes.content_expires).toBeUndefined();
    expect(after.attributes.locale).toEqual(["en"]);
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

  it("refuses an issuer that is not a realm URL", () => {
    expect(() =>
      createKeycloakAdmin({ issuer: "https://kc.example/", clientId: "a", clientSecret: "b" }),
    ).toThrow(/\/realms\/<realm>/);
  });
});
