import http from "node:http";
import https from "node:https";
import { isIPv6 } from "node:net";

/**
 * soju 0.10.1's `auth http <url>` (auth/http.go, auth/auth.go), as the soju stand-in speaks it:
 * one `POST <url>` per PASS or SASL PLAIN login, no body, `Authorization: Basic
 * b64(user:pass)` (user without its `/network` and `@client` suffixes), and the client's address
 * as `Forwarded: for="<host:port>"` plus `X-Forwarded-For: <host>`. 200 → valid; 403 → invalid
 * credentials; any other status, or no answer → an error. Headers otherwise as Go's
 * http.DefaultClient sends them (User-Agent, Content-Length 0, Accept-Encoding gzip).
 */
export type AuthResult =
  | { ok: true }
  /** `external`: what soju may tell the client (authErrorReason); `internal`: its log text. */
  | { ok: false; external: string; internal: string };

/** auth.newInvalidCredentialsError: the only failure whose text reaches the client as is. */
export const INVALID_CREDENTIALS = "Invalid credentials";
/** downstream.go authErrorReason for every other failure. */
export const AUTHENTICATION_FAILED = "Authentication failed";

export interface DownstreamAddress {
  address: string;
  port: number;
}

/** Go's net.Conn RemoteAddr().String(): host:port, IPv6 in brackets, IPv4-mapped as IPv4. */
export function goRemoteAddr(remote: DownstreamAddress): { hostPort: string; host: string } {
  const host = remote.address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  return { hostPort: isIPv6(host) ? `[${host}]:${remote.port}` : `${host}:${remote.port}`, host };
}

/** Go's http.Status text for the log line (`HTTP auth error: 500 Internal Server Error`). */
const statusText = (code: number): string => `${code} ${http.STATUS_CODES[code] ?? ""}`.trim();

export async function httpAuthPlain(
  url: string,
  username: string,
  password: string,
  remote: DownstreamAddress | undefined,
  timeoutMs: number,
): Promise<AuthResult> {
  const headers: Record<string, string> = {
    "User-Agent": "Go-http-client/1.1",
    "Content-Length": "0",
    Authorization: `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`,
  };
  if (remote) {
    const { hostPort, host } = goRemoteAddr(remote);
    headers["Forwarded"] = `for=${JSON.stringify(hostPort)}`;
    headers["X-Forwarded-For"] = host;
  }
  headers["Accept-Encoding"] = "gzip";
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return {
      ok: false,
      external: AUTHENTICATION_FAILED,
      internal: "failed to create HTTP auth request",
    };
  }
  const client = target.protocol === "https:" ? https : http;
  return new Promise<AuthResult>((resolve) => {
    const req = client.request(target, { method: "POST", headers }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      if (code === 403)
        resolve({
          ok: false,
          external: INVALID_CREDENTIALS,
          internal: "HTTP auth server returned forbidden",
        });
      else if (code !== 200)
        resolve({
          ok: false,
          external: AUTHENTICATION_FAILED,
          internal: `HTTP auth error: ${statusText(code)}`,
        });
      else resolve({ ok: true });
    });
    // soju bounds the whole registration (30 s); the request shares that deadline.
    req.setTimeout(timeoutMs, () => req.destroy(new Error("context deadline exceeded")));
    req.on("error", (error) =>
      resolve({
        ok: false,
        external: AUTHENTICATION_FAILED,
        internal: `failed to send HTTP auth request: ${error.message}`,
      }),
    );
    req.end();
  });
}
