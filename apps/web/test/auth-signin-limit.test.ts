import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  clientAddress,
  refuseTooManySignIns,
  SIGN_IN_CALLBACK_LIMIT,
  SIGN_IN_START_LIMIT,
  signInLimiters,
  type SignInLimiters,
} from "~/server/auth/sign-in-limits";
import { startWorld, type World } from "./support/world";

// Sign-in starts and OAuth callbacks per client address, counted in the real accounts DB.

const SITE = "http://127.0.0.1:3000";
let world: World;
let limiters: SignInLimiters;

beforeAll(async () => {
  world = await startWorld(inject("postgresUrl"));
  limiters = signInLimiters(world.db);
});
afterAll(async () => {
  await world?.stop();
});

const callback = (address: string) =>
  new Request(`${SITE}/api/auth/callback/keycloak?code=c&state=s`, {
    headers: { "x-forwarded-for": `198.51.100.9, ${address}` },
  });
const start = (address: string, json = true) =>
  new Request(`${SITE}/api/auth/signin/keycloak`, {
    method: "POST",
    headers: {
      "x-forwarded-for": address,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ csrfToken: "t", callbackUrl: "/dashboard", json: String(json) }),
  });

describe("sign-in rate limits", () => {
  it("answers the callback over its budget with a 429 page saying when to try again", async () => {
    for (let i = 0; i < SIGN_IN_CALLBACK_LIMIT.points; i++)
      expect(
        await refuseTooManySignIns(
          callback("203.0.113.7"),
          ["callback", "keycloak"],
          limiters,
          SITE,
        ),
      ).toBeNull();
    const refused = await refuseTooManySignIns(
      callback("203.0.113.7"),
      ["callback", "keycloak"],
      limiters,
      SITE,
    );
    expect(refused?.status).toBe(429);
    const retryAfter = Number(refused!.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(SIGN_IN_CALLBACK_LIMIT.durationS);
    expect(refused!.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await refused!.text();
    expect(html).toContain("Too many sign-in attempts");
    expect(html).toMatch(/Please try again in \d+ (s|min)\./);
    expect(html).not.toContain("<script");

    // Another address has its own budget.
    expect(
      await refuseTooManySignIns(callback("203.0.113.8"), ["callback", "keycloak"], limiters, SITE),
    ).toBeNull();
  });

  it("answers next-auth's sign-in start (json) with where to show the wait", async () => {
    for (let i = 0; i < SIGN_IN_START_LIMIT.points; i++)
      expect(
        await refuseTooManySignIns(start("203.0.113.20"), ["signin", "keycloak"], limiters, SITE),
      ).toBeNull();
    const refused = await refuseTooManySignIns(
      start("203.0.113.20"),
      ["signin", "keycloak"],
      limiters,
      SITE,
    );
    expect(refused?.status).toBe(429);
    const { url } = (await refused!.json()) as { url: string };
    expect(url).toMatch(new RegExp(`^${SITE}/signin\\?retryAfter=\\d+$`));
    const page = await refuseTooManySignIns(
      start("203.0.113.20", false),
      ["signin", "keycloak"],
      limiters,
      SITE,
    );
    expect(page?.status).toBe(429);
    expect(await page!.text()).toContain("Please try again in");
  });

  it("does not count other next-auth routes (session, csrf, providers, the sign-in page)", async () => {
    const get = (path: string) =>
      new Request(`${SITE}/api/auth/${path}`, { headers: { "x-forwarded-for": "203.0.113.30" } });
    for (let i = 0; i < SIGN_IN_START_LIMIT.points + 5; i++) {
      expect(await refuseTooManySignIns(get("session"), ["session"], limiters, SITE)).toBeNull();
      expect(await refuseTooManySignIns(get("csrf"), ["csrf"], limiters, SITE)).toBeNull();
      expect(
        await refuseTooManySignIns(get("signin/keycloak"), ["signin", "keycloak"], limiters, SITE),
      ).toBeNull();
    }
  });

  it("takes the client address our proxy appended (the right-most X-Forwarded-For entry)", () => {
    expect(clientAddress(callback("203.0.113.7"))).toBe("203.0.113.7");
    expect(clientAddress(new Request(SITE))).toBe("unknown");
    expect(clientAddress(new Request(SITE, { headers: { "x-real-ip": "192.0.2.1" } }))).toBe(
      "192.0.2.1",
    );
  });
});
