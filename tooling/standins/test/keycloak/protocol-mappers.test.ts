import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import { Browser, serviceAccountToken, signIn } from "./helpers";

/** The `account-portal` client's User Attribute mappers for `plan` and `content_expires`. */
describe("Keycloak stand-in: plan and content_expires mapped into tokens", () => {
  let kc: KeycloakStandin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({
      log: () => {},
      users: [
        {
          username: "alice",
          password: "pw",
          email: "alice@irc-now.test",
          attributes: { plan: ["pro"], content_expires: ["false"], other: ["not-mapped"] },
        },
        { username: "bob", password: "pw", email: "bob@irc-now.test" },
      ],
    });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  it("puts them as strings into the ID token, the access token and userinfo", async () => {
    const { tokens } = await signIn(kc, new Browser(), "alice", "pw");
    const id = decodeJwt(tokens.id_token);
    expect(id).toMatchObject({ plan: "pro", content_expires: "false" });
    expect(id).not.toHaveProperty("other");
    expect(decodeJwt(tokens.access_token)).toMatchObject({ plan: "pro", content_expires: "false" });
    const userinfo = await fetch(`${kc.issuer}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({ plan: "pro", content_expires: "false" });
  });

  it("records the claims of every ID token issued per user, also over the test endpoint", async () => {
    const before = kc.issuedIdTokenClaims("alice").length;
    const { tokens } = await signIn(kc, new Browser(), "alice", "pw");
    const recorded = kc.issuedIdTokenClaims("alice");
    expect(recorded).toHaveLength(before + 1);
    expect(recorded.at(-1)).toEqual(decodeJwt(tokens.id_token));
    const res = await fetch(`${kc.origin}/_standin/id-token-claims?username=alice`);
    expect(await res.json()).toEqual(recorded);
    expect((await fetch(`${kc.origin}/_standin/id-token-claims`)).status).toBe(400);
  });

  it("reflects a pushed change in the next token and leaves the claims out for a user without them", async () => {
    const { tokens: bobs } = await signIn(kc, new Browser(), "bob", "pw");
    expect(decodeJwt(bobs.id_token)).not.toHaveProperty("plan");
    expect(decodeJwt(bobs.id_token)).not.toHaveProperty("content_expires");

    const admin = await serviceAccountToken(kc);
    const bob = kc.getUser("bob")!;
    const put = await fetch(`${kc.adminUrl}/users/${bob.id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({
        username: "bob",
        email: "bob@irc-now.test",
        attributes: { plan: ["free"], content_expires: ["true"] },
      }),
    });
    expect(put.status).toBe(204);
    const { tokens } = await signIn(kc, new Browser(), "bob", "pw");
    expect(decodeJwt(tokens.id_token)).toMatchObject({ plan: "free", content_expires: "true" });
    expect(kc.issuedIdTokenClaims("bob").map((c) => c.plan)).toEqual([undefined, "free"]);
  });
});
