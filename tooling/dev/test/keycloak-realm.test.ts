import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keycloakService } from "../src/services/keycloak";

/** The dev realm declares the portal's attributes as docs/keycloak-realm.md asks of production. */
describe("npm run dev's Keycloak realm", () => {
  let env: Record<string, string>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    const started = await keycloakService.start({ DEV_KEYCLOAK_PORT: "0" });
    env = started.env as Record<string, string>;
    stop = started.stop;
  });
  afterAll(async () => {
    await stop?.();
  });

  async function admin(path: string, init: RequestInit = {}): Promise<Response> {
    const basic = Buffer.from(
      `${env.KEYCLOAK_ADMIN_CLIENT_ID}:${env.KEYCLOAK_ADMIN_CLIENT_SECRET}`,
    ).toString("base64");
    const tokenRes = await fetch(`${env.KEYCLOAK_ISSUER}/protocol/openid-connect/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${basic}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials",
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    return fetch(`${env.KEYCLOAK_ISSUER!.replace("/realms/", "/admin/realms/")}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
    });
  }

  it("keeps plan and content_expires and drops undeclared attributes", async () => {
    const profile = (await (await admin("/users/profile")).json()) as {
      attributes: { name: string; permissions?: { edit?: string[] } }[];
      unmanagedAttributePolicy?: string;
    };
    expect(profile.unmanagedAttributePolicy).toBeUndefined();
    for (const name of ["plan", "content_expires"])
      expect(profile.attributes.find((a) => a.name === name)?.permissions?.edit).toEqual(["admin"]);

    const [alice] = (await (await admin("/users?username=alice&exact=true")).json()) as {
      id: string;
      email: string;
    }[];
    const put = await admin(`/users/${alice!.id}`, {
      method: "PUT",
      body: JSON.stringify({
        username: "alice",
        email: alice!.email,
        attributes: { plan: ["free"], content_expires: ["true"], undeclared: ["x"] },
      }),
    });
    expect(put.status).toBe(204);
    const after = (await (await admin(`/users/${alice!.id}`)).json()) as {
      attributes: Record<string, string[]>;
    };
    expect(after.attributes).toEqual({ plan: ["free"], content_expires: ["true"] });
  });
});
