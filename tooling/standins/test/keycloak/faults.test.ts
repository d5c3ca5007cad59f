import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKeycloakStandin, type KeycloakStandin } from "../../src/keycloak";
import { serviceAccountToken } from "./helpers";

describe("Keycloak stand-in: fault switches", () => {
  let kc: KeycloakStandin;

  beforeAll(async () => {
    kc = await startKeycloakStandin({ log: () => {} });
  });
  afterAll(async () => {
    await kc?.stop();
  });

  const users = (token: string) =>
    fetch(`${kc.adminUrl}/users`, { headers: { authorization: `Bearer ${token}` } });

  it("revokeAccessTokens: tokens issued before are refused (401), new ones work", async () => {
    const old = await serviceAccountToken(kc);
    expect((await users(old)).status).toBe(200);
    kc.revokeAccessTokens();
    expect((await users(old)).status).toBe(401);
    const fresh = await serviceAccountToken(kc);
    expect((await users(fresh)).status).toBe(200);
  });

  it("outage: refuses connections and cuts open ones; restore() serves again on the same port with the same state", async () => {
    const token = await serviceAccountToken(kc);
    const open = connect(kc.port, "127.0.0.1");
    await new Promise<void>((resolve) => open.once("connect", () => resolve()));
    const closed = new Promise<void>((resolve) => open.once("close", () => resolve()));

    const outage = await kc.outage();
    await closed; // the idle connection was destroyed, not left to linger
    await expect(fetch(`${kc.issuer}/.well-known/openid-configuration`)).rejects.toMatchObject({
      cause: { code: "ECONNREFUSED" },
    });

    await outage.restore();
    const res = await users(token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { username: string }[]).map((u) => u.username)).toEqual([
      "admin",
      "alice",
    ]);
  });
});
