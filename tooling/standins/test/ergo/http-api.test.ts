import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { nickServTexts, ns, type RawClient, rawOper, rawRegister } from "./helpers";

let ergo: ErgoStandin;
const open: RawClient[] = [];

async function api(
  path: string,
  body: unknown,
  token: string | null = ergo.apiToken,
): Promise<{ status: number; json: Record<string, unknown> | null }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${ergo.apiUrl}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: res.status === 200 ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

beforeAll(async () => {
  ergo = await startErgoStandin({ apiTokens: ["test-token-1", "test-token-2"] });
});

afterAll(async () => {
  for (const c of open) c.close();
  await ergo.stop();
});

describe("HTTP API authentication", () => {
  const endpoints = [
    "/v1/ns/saregister",
    "/v1/ns/passwd",
    "/v1/check_auth",
    "/v1/ns/info",
    "/v1/whois",
    "/v1/status",
  ];

  it("rejects a wrong or missing bearer token with a non-200 status", async () => {
    for (const path of endpoints) {
      expect((await api(path, {}, "wrong-token")).status).toBe(401);
      expect((await api(path, {}, null)).status).toBe(401);
    }
    expect(ergo.accountExists("sneaky")).toBe(false);
    expect(
      (await api("/v1/ns/saregister", { accountName: "sneaky", passphrase: "x1234567" }, "wrong"))
        .status,
    ).toBe(401);
    expect(ergo.accountExists("sneaky")).toBe(false);
  });

  it("accepts every configured token", async () => {
    expect(ergo.apiToken).toBe("test-token-1");
    expect((await api("/v1/status", {}, "test-token-2")).status).toBe(200);
  });

  it("answers 400 for a body that is not JSON, 404 for an unknown path, 405 for GET", async () => {
    expect((await api("/v1/check_auth", "not json")).status).toBe(400);
    expect((await api("/v1/nope", {})).status).toBe(404);
    const get = await fetch(`${ergo.apiUrl}/v1/status`, {
      headers: { authorization: `Bearer ${ergo.apiToken}` },
    });
    await get.text();
    expect(get.status).toBe(405);
  });
});

describe("/v1/ns/saregister and /v1/ns/passwd", () => {
  it("registers, then reports ACCOUNT_EXISTS", async () => {
    expect(
      await api("/v1/ns/saregister", { accountName: "apiuser", passphrase: "apipass1" }),
    ).toEqual({ status: 200, json: { success: true } });
    expect(ergo.accountExists("apiuser")).toBe(true);
    expect(
      (await api("/v1/ns/saregister", { accountName: "APIUSER", passphrase: "other" })).json,
    ).toEqual({
      success: false,
      errorCode: "ACCOUNT_EXISTS",
      error: "Name reserved due to a prior registration",
    });
    expect(
      (await api("/v1/ns/saregister", { accountName: "Guest-api", passphrase: "other" })).json,
    ).toEqual({
      success: false,
      errorCode: "ACCOUNT_EXISTS",
      error: "Account already exists",
    });
    expect(
      (await api("/v1/ns/saregister", { accountName: "bad name", passphrase: "other" })).json,
    ).toEqual({
      success: false,
      errorCode: "UNKNOWN_ERROR",
      error: "Account could not be created",
    });
  });

  it("changes a password, or reports ACCOUNT_DOES_NOT_EXIST", async () => {
    await ergo.registerAccount("pwapi", "firstpass");
    expect(
      (await api("/v1/ns/passwd", { accountName: "pwapi", passphrase: "secondpass" })).json,
    ).toEqual({ success: true });
    expect(await ergo.checkPassword("pwapi", "secondpass")).toBe(true);
    expect(await ergo.checkPassword("pwapi", "firstpass")).toBe(false);
    expect(
      (await api("/v1/ns/passwd", { accountName: "nosuchacct", passphrase: "x1234567" })).json,
    ).toEqual({
      success: false,
      errorCode: "ACCOUNT_DOES_NOT_EXIST",
    });
  });
});

describe("/v1/check_auth and /v1/ns/info", () => {
  it("checks credentials and returns the canonical account name", async () => {
    await ergo.registerAccount("CheckMe", "checkpass");
    expect(
      (await api("/v1/check_auth", { accountName: "checkme", passphrase: "checkpass" })).json,
    ).toEqual({ success: true, accountName: "CheckMe" });
    expect(
      (await api("/v1/check_auth", { accountName: "checkme", passphrase: "wrong" })).json,
    ).toEqual({ success: false });
    expect(
      (await api("/v1/check_auth", { accountName: "ghost", passphrase: "whatever" })).json,
    ).toEqual({ success: false });
  });

  it("describes an account", async () => {
    await ergo.registerAccount("infouser", "infopass");
    const { json } = await api("/v1/ns/info", { accountName: "INFOUSER" });
    expect(json).toMatchObject({ success: true, accountName: "infouser" });
    expect(String(json?.registeredAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await api("/v1/ns/info", { accountName: "ghost" })).json).toEqual({ success: false });
  });
});

describe("/v1/whois and /v1/status", () => {
  it("reports presence and the logged-in account", async () => {
    await ergo.registerAccount("whoapi", "whoapipass");
    expect((await api("/v1/whois", { nickname: "whoapi" })).json).toEqual({
      success: true,
      present: false,
    });
    const c = await rawRegister(ergo, "whoapi", {
      sasl: { account: "whoapi", password: "whoapipass" },
    });
    open.push(c);
    const { json } = await api("/v1/whois", { nickname: "WHOAPI" });
    expect(json).toMatchObject({
      success: true,
      present: true,
      nickname: "whoapi",
      username: "~u",
      realname: "whoapi",
      account: "whoapi",
      session_count: 1,
    });
    expect(json?.channels).toEqual([]);
  });

  it("returns server status", async () => {
    const { json } = await api("/v1/status", {});
    expect(json).toMatchObject({ success: true, version: "2.11.1", servers: 1 });
    expect(json?.users).toMatchObject({ total: expect.any(Number), operators: expect.any(Number) });
    expect(typeof json?.start_time).toBe("string");
  });
});

describe("one account store for IRC and HTTP", () => {
  it("an API registration is seen by NickServ and SASL, an IRC one by check_auth", async () => {
    await api("/v1/ns/saregister", { accountName: "shared1", passphrase: "sharedpass" });
    const op = await rawOper(ergo, "apiop");
    open.push(op);
    expect(nickServTexts(await ns(op, "NS SAREGISTER shared1 x"))).toEqual([
      "Name reserved due to a prior registration",
    ]);
    const viaSasl = await rawRegister(ergo, "shared1", {
      sasl: { account: "shared1", password: "sharedpass" },
    });
    open.push(viaSasl);
    expect(ergo.whoisAccount("shared1")).toBe("shared1");

    expect(nickServTexts(await ns(op, "NS SAREGISTER shared2 ircpass2"))).toEqual([
      "Successfully registered account shared2",
    ]);
    expect(
      (await api("/v1/check_auth", { accountName: "shared2", passphrase: "ircpass2" })).json,
    ).toEqual({ success: true, accountName: "shared2" });
    expect(nickServTexts(await ns(op, "NS PASSWD shared2 ircpass3"))).toEqual(["Password changed"]);
    expect(
      (await api("/v1/check_auth", { accountName: "shared2", passphrase: "ircpass2" })).json,
    ).toEqual({ success: false });
  });

  it("an API registration also enforces the nick on a client sitting on it", async () => {
    const squatter = await rawRegister(ergo, "squatapi");
    open.push(squatter);
    expect(
      (await api("/v1/ns/saregister", { accountName: "squatapi", passphrase: "pw123456" })).json,
    ).toEqual({ success: true });
    expect(await squatter.next(/ NICK /)).toMatch(/^:squatapi!~u@\S+ NICK Guest-[a-z2-9]+$/);
  });
});
