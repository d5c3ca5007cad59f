import http from "node:http";
import type { AddressInfo } from "node:net";
import { realPeersRequested, startSoju } from "@irc-now/peers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ok, RawClient, SojuFixture } from "./helpers";

/**
 * soju 0.10.1's `auth http <url>` (auth/http.go, auth/auth.go, downstream.go), which the portal's
 * `POST {SOJU_AUTH_PATH}/{bouncer}` answers. In `npm test` these cases pin the soju stand-in;
 * `npm run test:peers` runs the very same cases against the real soju 0.10.1 started with
 * `--auth-http`. What soju does, read at v0.10.1 and seen with the peers kit:
 *
 *   POST <url path> HTTP/1.1              (no body, Content-Length: 0)
 *   Authorization: Basic b64(<user>:<password>)   user = the login without `/network`, `@client`
 *   Forwarded: for="<client ip>:<client port>"
 *   X-Forwarded-For: <client ip>
 *   User-Agent: Go-http-client/1.1
 *
 *   answer  | PASS                                  | SASL PLAIN
 *   200     | welcome (001)                         | 903, welcome after CAP END
 *   403     | `:soju.test 464 * :Invalid credentials` | `:soju.test 904 * :Authentication failed`
 *   other   | `:soju.test 464 * :Authentication failed` | `:soju.test 904 * :Authentication failed`
 *
 * soju's own stored passwords are not used. A user the auth server accepts but soju does not
 * have gets `ERROR :Internal server error` (enable-user-on-auth is off: the operator creates it).
 */

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The auth server: records every request and answers `answer` (a status, or "drop"). */
const recorded: Recorded[] = [];
let answer: number | "drop" = 200;
const authServer = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
  req.on("end", () => {
    recorded.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    if (answer === "drop") req.socket.destroy();
    else res.writeHead(answer).end();
  });
});

const AUTH_PATH = "/api/soju/auth/alice-bnc";
const fx = new SojuFixture();
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => authServer.listen(0, "127.0.0.1", resolve));
  const authHttp = `http://127.0.0.1:${(authServer.address() as AddressInfo).port}${AUTH_PATH}`;
  await fx.setup();
  const databaseUrl = await fx.database();
  let adminSocketPath: string;
  if (realPeersRequested()) {
    const real = await startSoju({ databaseUrl, authHttp });
    fx.onCleanup(() => real.stop());
    ({ port, adminSocketPath } = real);
  } else {
    const standin = await fx.soju({ databaseUrl, downstream: { port: 0 }, authHttp });
    port = standin.downstreamAddress?.port ?? 0;
    adminSocketPath = standin.adminSocketPath;
  }
  const admin = await fx.admin({ adminSocketPath });
  expect(await admin.command("user create -username alice -disable-password")).toEqual(
    ok('created user "alice"'),
  );
  expect(await admin.command("user create -username bob -password pw-bob")).toEqual(
    ok('created user "bob"'),
  );
  expect(
    await admin.command(
      "user run alice network create -addr irc+insecure://127.0.0.1:9 -name home -enabled false",
    ),
  ).toEqual(ok('created network "home"'));
});
afterAll(async () => {
  await fx.teardown();
  await new Promise<void>((resolve) => authServer.close(() => resolve()));
});
beforeEach(() => {
  recorded.length = 0;
  answer = 200;
});

/** Sends `lines` on a fresh connection; returns the client's port and every line until EOF or `until`. */
async function login(
  lines: string[],
  until: (line: string) => boolean = (l) => / 422 /.test(l),
): Promise<{ localPort: number; lines: string[] }> {
  const client = await RawClient.connect({ host: "127.0.0.1", port });
  fx.onCleanup(async () => client.close());
  const localPort = client.socket.localPort ?? 0;
  client.write(lines.map((l) => `${l}\r\n`).join(""));
  const seen: string[] = [];
  for (;;) {
    const line = await client.readLine();
    if (line === null) break;
    seen.push(line);
    if (until(line)) break;
  }
  client.close();
  return { localPort, lines: seen };
}

const pass = (user: string, password: string) => [
  `PASS ${password}`,
  `NICK ${user.split(/[/@]/)[0]}`,
  `USER ${user} 0 * :x`,
];
const sasl = (authcid: string, password: string) => [
  "CAP REQ :sasl",
  "NICK alice",
  "USER alice 0 * :x",
  "AUTHENTICATE PLAIN",
  `AUTHENTICATE ${Buffer.from(`\0${authcid}\0${password}`).toString("base64")}`,
  "CAP END",
];
const basic = (header: string | undefined) =>
  Buffer.from((header ?? "").replace(/^Basic /, ""), "base64").toString("utf8");

/** The request soju made for one login from local port `localPort`. */
function expectOneRequest(localPort: number, credentials: string): void {
  expect(recorded).toHaveLength(1);
  const [req] = recorded;
  expect(req).toMatchObject({ method: "POST", url: AUTH_PATH, body: "" });
  expect(req!.headers.authorization).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
  expect(basic(req!.headers.authorization)).toBe(credentials);
  expect(req!.headers["content-length"]).toBe("0");
  expect(req!.headers["transfer-encoding"]).toBeUndefined();
  expect(req!.headers["user-agent"]).toBe("Go-http-client/1.1");
  expect(req!.headers.forwarded).toBe(`for="127.0.0.1:${localPort}"`);
  expect(req!.headers["x-forwarded-for"]).toBe("127.0.0.1");
}

describe("soju 0.10.1: auth http", () => {
  it("PASS: one POST, no body, Basic credentials of the user without /network and @client, the client's address forwarded; 200 welcomes", async () => {
    const { localPort, lines } = await login(pass("alice/home@laptop", "app-pw"));
    expect(lines[0]).toBe(":soju.test 001 alice :Welcome to soju, alice");
    expectOneRequest(localPort, "alice:app-pw");
  });

  it("SASL PLAIN: the same request from the authcid without its suffixes; 200 → 903, then the welcome", async () => {
    for (const authcid of ["alice@phone/home", "alice/home@phone", "alice"]) {
      recorded.length = 0;
      const { localPort, lines } = await login(sasl(authcid, "app:pw"));
      expect(lines.slice(0, 4)).toEqual([
        ":soju.test CAP * ACK sasl",
        "AUTHENTICATE +",
        ":soju.test 903 * :SASL authentication successful",
        ":soju.test 001 alice :Welcome to soju, alice",
      ]);
      expectOneRequest(localPort, "alice:app:pw");
    }
  });

  it("403: PASS gets 464 Invalid credentials, SASL 904 Authentication failed; soju's own password is not used", async () => {
    answer = 403;
    const byPass = await login(pass("bob", "pw-bob"));
    expect(byPass.lines).toEqual([":soju.test 464 * :Invalid credentials"]);
    expectOneRequest(byPass.localPort, "bob:pw-bob");

    recorded.length = 0;
    const bySasl = await login(sasl("bob", "pw-bob"), (l) => / FAIL /.test(l));
    expect(bySasl.lines).toEqual([
      ":soju.test CAP * ACK sasl",
      "AUTHENTICATE +",
      ":soju.test 904 * :Authentication failed",
      ":soju.test FAIL * ACCOUNT_REQUIRED :Authentication required",
    ]);
    expectOneRequest(bySasl.localPort, "bob:pw-bob");
  });

  it("any other answer (500, 401, 204, a dropped connection) is an error: 464 / 904 Authentication failed", async () => {
    for (const status of [500, 401, 204, "drop"] as const) {
      answer = status;
      recorded.length = 0;
      expect((await login(pass("alice", "app-pw"))).lines, String(status)).toEqual([
        ":soju.test 464 * :Authentication failed",
      ]);
      expect((await login(sasl("alice", "app-pw"), (l) => / 904 /.test(l))).lines).toEqual([
        ":soju.test CAP * ACK sasl",
        "AUTHENTICATE +",
        ":soju.test 904 * :Authentication failed",
      ]);
      expect(recorded).toHaveLength(2);
    }
  });

  it("200 for a user soju does not have: ERROR Internal server error (no user is created on auth)", async () => {
    expect((await login(pass("carol", "app-pw"))).lines).toEqual(["ERROR :Internal server error"]);
    expect(basic(recorded[0]?.headers.authorization)).toBe("carol:app-pw");
    // still not created: the next login fails the same way
    expect((await login(pass("carol", "app-pw"))).lines).toEqual(["ERROR :Internal server error"]);
  });

  it("no PASS and no SASL: 464 Authentication required, and no request", async () => {
    expect((await login(["NICK alice", "USER alice 0 * :x"])).lines).toEqual([
      ":soju.test 464 * :Authentication required",
    ]);
    expect(recorded).toHaveLength(0);
  });
});
