import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import {
  createErgoAdmin,
  ErgoTimeout,
  ErgoUnavailable,
  OperAuthFailed,
  type ErgoAdmin,
} from "../src/index";
import {
  captureLogger,
  closedPort,
  errorTexts,
  makeSecret,
  rejectionOf,
  silentServer,
  uniqueName,
  type TestServer,
} from "./helpers";

/** Behaviour only the HTTP API adapter has. */

const admins: ErgoAdmin[] = [];
afterEach(async () => {
  for (const admin of admins.splice(0)) await admin.close();
});
function httpAdmin(
  url: string,
  token: string,
  options: Parameters<typeof createErgoAdmin>[1] = {},
) {
  const admin = createErgoAdmin({ ERGO_API_URL: url, ERGO_API_TOKEN: token }, options);
  admins.push(admin);
  return admin;
}

describe("HTTP adapter against the stand-in", () => {
  let ergo: ErgoStandin;
  beforeAll(async () => {
    ergo = await startErgoStandin();
  });
  afterAll(async () => ergo?.stop());

  it("a refused bearer token → OperAuthFailed on every call, token not echoed", async () => {
    const badToken = makeSecret("token");
    const capture = captureLogger();
    const admin = httpAdmin(ergo.apiUrl, badToken, { logger: capture.logger });
    const password = makeSecret("pw");
    const errors = [
      await rejectionOf(admin.ensureAccount(uniqueName("a"), password)),
      await rejectionOf(admin.checkCredentials(uniqueName("a"), password)),
      await rejectionOf(admin.whois("someone")),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(OperAuthFailed);
      expect((err as OperAuthFailed).retryable).toBe(false);
      expect((err as Error).message).toContain("401");
      for (const secret of [badToken, ergo.apiToken, password]) {
        expect(errorTexts(err)).not.toContain(secret);
      }
    }
    for (const secret of [badToken, ergo.apiToken, password]) {
      expect(capture.text()).not.toContain(secret);
    }
  });

  it("an unknown endpoint (older ergo, wrong prefix) → ErgoUnavailable", async () => {
    const admin = httpAdmin(`${ergo.apiUrl}/no-such-prefix`, ergo.apiToken);
    const err = await rejectionOf(admin.whois("someone"));
    expect(err).toBeInstanceOf(ErgoUnavailable);
    expect((err as Error).message).toContain("404");
  });

  it("after close(), calls fail with ErgoUnavailable", async () => {
    const admin = httpAdmin(ergo.apiUrl, ergo.apiToken);
    await expect(admin.whois("someone")).resolves.toBeNull();
    await admin.close();
    await expect(admin.whois("someone")).rejects.toBeInstanceOf(ErgoUnavailable);
  });
});

describe("HTTP adapter: unreachable API", () => {
  let server: TestServer | undefined;
  afterEach(async () => server?.close());

  it("a server that never answers → ErgoTimeout", async () => {
    server = await silentServer();
    const admin = httpAdmin(`http://127.0.0.1:${server.port}`, makeSecret("token"), {
      commandTimeoutMs: 400,
    });
    const err = await rejectionOf(admin.ensureAccount(uniqueName("t"), makeSecret("pw")));
    expect(err).toBeInstanceOf(ErgoTimeout);
  });

  it("nothing listening → ErgoUnavailable", async () => {
    const port = await closedPort();
    const admin = httpAdmin(`http://127.0.0.1:${port}`, makeSecret("token"));
    const err = await rejectionOf(admin.checkCredentials("someone", makeSecret("pw")));
    expect(err).toBeInstanceOf(ErgoUnavailable);
    expect((err as Error).message).toContain("ECONNREFUSED");
  });
});
