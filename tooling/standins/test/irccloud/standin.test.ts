import { get } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  defaultIrccloudUsers,
  startIrccloudStandin,
  type IrccloudStandin,
} from "../../src/irccloud";

// The IRCCloud stand-in's wire shapes (facts/irccloud.md), pinned with a plain HTTP and
// WebSocket client: formtoken + login, the stream's first frames, the gzip OOB array, set_shard.
const [alice] = defaultIrccloudUsers();
let s: IrccloudStandin;

beforeAll(async () => {
  s = await startIrccloudStandin({
    users: [alice!, { ...alice!, email: "shard@example.test", sharded: true }],
  });
});
afterAll(() => s.stop());

async function login(email: string, password: string, token?: string) {
  const t = await fetch(`${s.url}/chat/auth-formtoken`, { method: "POST" });
  const { token: fresh } = (await t.json()) as { success: boolean; token: string };
  const use = token ?? fresh;
  const res = await fetch(`${s.url}/chat/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-auth-formtoken": use },
    body: new URLSearchParams({ email, password, token: use }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, res };
}

function frames(path: string, session: string, count: number): Promise<Record<string, unknown>[]> {
  const ws = new WebSocket(`${s.url.replace("http", "ws")}${path}`);
  const out: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    ws.on("open", () => ws.send(JSON.stringify({ _method: "auth", cookie: session })));
    ws.on("error", reject);
    ws.on("close", () => resolve(out));
    ws.on("message", (d) => {
      out.push(JSON.parse(String(d)) as Record<string, unknown>);
      if (out.length === count) {
        ws.close();
        resolve(out);
      }
    });
  });
}

describe("IRCCloud stand-in", () => {
  it("logs in with a formtoken and sets the session cookie; refuses a wrong password and a bad token", async () => {
    const ok = await login(alice!.email, alice!.password);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ success: true, uid: 1 });
    expect(ok.res.headers.get("set-cookie")).toContain(`session=${String(ok.body.session)}`);
    expect(await login(alice!.email, "wrong")).toMatchObject({
      status: 401,
      body: { success: false, message: "auth" },
    });
    expect((await login(alice!.email, alice!.password, "made-up")).body).toEqual({
      success: false,
      message: "token",
    });
    s.rateLimited = true;
    expect((await login(alice!.email, alice!.password)).body).toEqual({
      success: false,
      message: "rate_limited",
    });
    s.rateLimited = false;
  });

  it("streams header, stat_user and oob_include; the OOB array is gzip JSON ending in backlog_complete", async () => {
    const { body } = await login(alice!.email, alice!.password);
    const session = String(body.session);
    const [header, stat, oob] = await frames("/", session, 3);
    expect(header).toMatchObject({ type: "header", resumed: false });
    expect(stat).toMatchObject({ type: "stat_user", email: alice!.email, num_connections: 3 });
    expect(oob).toMatchObject({ type: "oob_include" });
    const res = await fetch(`${s.url}${String(oob!.url)}`, {
      headers: { cookie: `session=${session}`, "accept-encoding": "identity" },
    });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const events = (await res.json()) as {
      type: string;
      buffer_type?: string;
      archived?: boolean;
    }[];
    expect(events.filter((e) => e.type === "makeserver")).toHaveLength(3);
    expect(events.filter((e) => e.buffer_type === "channel")).toHaveLength(11);
    expect(events.filter((e) => e.buffer_type === "channel" && e.archived)).toHaveLength(1);
    expect(events.at(-1)?.type).toBe("backlog_complete");
    // Without the session cookie the OOB URL is refused.
    expect((await fetch(`${s.url}${String(oob!.url)}`)).status).toBe(401);
    // The bytes on the wire are gzip (fetch above decoded them).
    const raw = await new Promise<Buffer>((resolve, reject) =>
      get(`${s.url}${String(oob!.url)}`, { headers: { cookie: `session=${session}` } }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve(Buffer.concat(chunks)));
      }).on("error", reject),
    );
    expect(JSON.parse(gunzipSync(raw).toString("utf8"))).toHaveLength(events.length);
  });

  it("sends a sharded account to its shard with a new session", async () => {
    const { body } = await login("shard@example.test", alice!.password);
    const [shard] = await frames("/", String(body.session), 1);
    expect(shard).toMatchObject({
      success: false,
      message: "set_shard",
      websocket_path: "/websocket/2",
      api_host: s.url,
    });
    const [header] = await frames("/websocket/2", String(shard!.cookie), 1);
    expect(header).toMatchObject({ type: "header" });
  });
});
