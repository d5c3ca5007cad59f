/**
 * Socket adapter only: connection reuse (through a counting proxy in front of the soju stand-in),
 * and the failure modes of the admin-socket protocol against scripted fake servers.
 */
import { mkdir } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SojuCommandFailed, SojuUnavailable, createSojuAdmin, type SojuAdmin } from "../src/index";
import { captureLogger, rejection, waitFor, World, type Bouncer } from "./helpers";

const world = new World();
beforeAll(() => world.start());
afterAll(() => world.stop());

interface FakeConnection {
  socket: net.Socket;
  /** The client half-closed (sent EOF) at some point. */
  halfClosed: boolean;
}

interface FakeServer {
  path: string;
  connections: FakeConnection[];
  /** Every command line received, in order. */
  lines: string[];
}

/** A unix-socket server at `path`; `reply` answers each received line on its connection. */
async function fakeServer(
  path: string,
  reply: (line: string, conn: FakeConnection, index: number) => void,
): Promise<FakeServer> {
  await mkdir(join(path, ".."), { recursive: true });
  const state: FakeServer = { path, connections: [], lines: [] };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const conn: FakeConnection = { socket, halfClosed: false };
    state.connections.push(conn);
    socket.on("end", () => (conn.halfClosed = true));
    socket.on("error", () => undefined);
    let buffer = "";
    socket.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      for (let lf = buffer.indexOf("\n"); lf !== -1; lf = buffer.indexOf("\n")) {
        const line = buffer.slice(0, lf).replace(/\r$/, "");
        buffer = buffer.slice(lf + 1);
        state.lines.push(line);
        reply(line, conn, state.lines.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  world.onCleanup(async () => {
    for (const c of state.connections) c.socket.destroy();
    await new Promise((r) => server.close(r));
  });
  return state;
}

function socketAdmin(
  template: string,
  logs: string[] = [],
  options: { commandTimeoutMs?: number; socketIdleTimeoutMs?: number } = {},
): SojuAdmin {
  const admin = createSojuAdmin(
    {
      SOJU_ADMIN: "socket",
      SOJU_ADMIN_SOCKET: template,
      SOJU_POD_SELECTOR: "x={name}",
      SOJU_CONTAINER: "soju",
      SOJU_CONFIG_PATH: "/etc/soju/config",
      namespace: "irc-now",
    },
    { logger: captureLogger(logs), ...options },
  );
  world.onCleanup(() => admin.close());
  return admin;
}

describe("socket adapter against the soju stand-in", () => {
  let bouncer: Bouncer;
  beforeAll(async () => {
    bouncer = await world.bouncer("sock-reuse", { pod: false });
  });

  it("runs several commands over one connection, and never half-closes", async () => {
    // A proxy that counts the connections the adapter opens and forwards bytes both ways.
    const proxyTemplate = join(world.dir, "proxy-{name}.sock");
    const proxyPath = proxyTemplate.replace("{name}", bouncer.name);
    let connections = 0;
    let halfCloses = 0;
    const proxy = net.createServer({ allowHalfOpen: true }, (client) => {
      connections += 1;
      const upstream = net.connect({ path: bouncer.soju.adminSocketPath });
      client.on("end", () => (halfCloses += 1));
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("data", (d: Buffer) => upstream.write(d));
      upstream.on("data", (d: Buffer) => client.write(d));
    });
    await new Promise<void>((resolve) => proxy.listen(proxyPath, resolve));
    world.onCleanup(() => new Promise((r) => proxy.close(r)));

    const admin = socketAdmin(proxyTemplate);
    const b = bouncer.name;
    expect(await admin.createUser(b, { username: "reuse", password: "Reuse-pw-1" })).toBe(
      "created",
    );
    expect(await admin.createUser(b, { username: "reuse", password: "Reuse-pw-1" })).toBe("exists");
    expect(
      await admin.createOrUpdateNetwork(b, "reuse", {
        name: "n",
        addr: world.upstreamAddr,
        nick: "reuse",
        username: "reuse",
        enabled: false,
      }),
    ).toBe("created");
    await admin.setSaslPlain(b, "reuse", "n", "reuse", "Sasl-pw-1");
    expect(await admin.saslStatus(b, "reuse", "n")).toEqual({
      plainUsername: "reuse",
      state: { kind: "disconnected" },
    });
    expect(await admin.networkStatus(b, "reuse")).toEqual([
      { name: "n", addr: world.upstreamAddr, state: "disabled" },
    ]);
    // Concurrent calls share the connection too (serialised, replies not mixed up).
    const [a, s] = await Promise.all([
      admin.userRun(b, "reuse", ["network", "status"]),
      admin.saslStatus(b, "reuse", "n"),
    ]);
    expect(a).toEqual([`n (${world.upstreamAddr}) [disabled]`]);
    expect(s.plainUsername).toBe("reuse");

    expect(connections).toBe(1);
    expect(halfCloses).toBe(0);
  });

  it("reconnects after soju restarted (the old connection was closed)", async () => {
    const admin = socketAdmin(world.socketTemplate);
    const b = bouncer.name;
    await admin.createUser(b, { username: "restarted", disablePassword: true });
    await bouncer.soju.restart();
    expect(await admin.createUser(b, { username: "restarted", disablePassword: true })).toBe(
      "exists",
    );
  });
});

/** A proxy in front of a soju admin socket that counts the client connections open right now. */
async function countingProxy(template: string, bouncer: Bouncer) {
  const path = template.replace("{name}", bouncer.name);
  const state = { open: 0, total: 0 };
  const proxy = net.createServer((client) => {
    state.open += 1;
    state.total += 1;
    const upstream = net.connect({ path: bouncer.soju.adminSocketPath });
    client.on("close", () => {
      state.open -= 1;
      upstream.destroy();
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => client.destroy());
    client.on("data", (d: Buffer) => upstream.write(d));
    upstream.on("data", (d: Buffer) => client.write(d));
  });
  await new Promise<void>((resolve) => proxy.listen(path, resolve));
  world.onCleanup(() => new Promise((r) => proxy.close(r)));
  return state;
}

describe("socket adapter: connection lifetime", () => {
  let bouncer: Bouncer;
  beforeAll(async () => {
    bouncer = await world.bouncer("sock-life", { pod: false });
  });

  it("closes a bouncer's connection after it idled for socketIdleTimeoutMs; the next command reconnects", async () => {
    const template = join(world.dir, "idle-{name}.sock");
    const proxy = await countingProxy(template, bouncer);
    const admin = socketAdmin(template, [], { socketIdleTimeoutMs: 300 });
    const b = bouncer.name;
    await admin.createUser(b, { username: "idle", disablePassword: true });
    expect(proxy.open).toBe(1);
    // Busy: commands closer together than the idle time keep the one connection.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      expect(await admin.createUser(b, { username: "idle", disablePassword: true })).toBe("exists");
    }
    expect(proxy).toEqual({ open: 1, total: 1 });
    const idleSince = Date.now();
    await waitFor(() => (proxy.open === 0 ? true : undefined), "the idle connection to close");
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(250);
    expect(await admin.createUser(b, { username: "idle", disablePassword: true })).toBe("exists");
    expect(proxy).toEqual({ open: 1, total: 2 });
  });

  it("release(bouncer) closes that bouncer's connection after its queued commands, and only that one", async () => {
    const template = join(world.dir, "release-{name}.sock");
    const proxy = await countingProxy(template, bouncer);
    const other = await world.bouncer("sock-life-2", { pod: false });
    const otherProxy = await countingProxy(template, other);
    const admin = socketAdmin(template); // default idle timeout: 60 s
    await admin.createUser(bouncer.name, { username: "rel", disablePassword: true });
    await admin.createUser(other.name, { username: "rel", disablePassword: true });
    expect([proxy.open, otherProxy.open]).toEqual([1, 1]);

    // A command queued before the release still runs on the connection, then it closes.
    const queued = admin.userRun(bouncer.name, "rel", ["network", "status"]);
    await admin.release(bouncer.name);
    await expect(queued).resolves.toEqual(expect.any(Array));
    await waitFor(() => (proxy.open === 0 ? true : undefined), "the released connection to close");
    expect(otherProxy.open).toBe(1);

    // Releasing again, or a bouncer never used, is a no-op; using the name again reconnects.
    await admin.release(bouncer.name);
    await admin.release("never-used");
    expect(await admin.createUser(bouncer.name, { username: "rel", disablePassword: true })).toBe(
      "exists",
    );
    expect(proxy).toEqual({ open: 1, total: 2 });
  });

  it("release is a no-op for the exec and sql-restart adapters", async () => {
    for (const mode of ["exec", "sql-restart"] as const) {
      await expect(world.admin(mode, []).release("anything")).resolves.toBeUndefined();
    }
  });
});

describe("socket adapter failure modes (scripted servers)", () => {
  const ok = (conn: FakeConnection, ...texts: string[]) =>
    conn.socket.write(
      [...texts.map((t) => `:soju.test PRIVMSG * :${t}\r\n`), ":soju.test BOUNCERSERV OK\r\n"].join(
        "",
      ),
    );

  it("a server that closes in the middle of a reply → SojuUnavailable; the next command reconnects", async () => {
    const template = join(world.dir, "fake-midreply-{name}.sock");
    const server = await fakeServer(template.replace("{name}", "b"), (line, conn, index) => {
      if (index === 0) {
        conn.socket.write(":soju.test PRIVMSG * :first output line\r\n");
        conn.socket.destroy();
      } else {
        ok(conn, "b: 0 networks");
      }
    });
    const admin = socketAdmin(template);
    const error = await rejection(admin.userRun("b", "u", ["network", "status"]));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toMatch(/before the terminal reply line/);
    expect(await admin.userRun("b", "u", ["network", "status"])).toEqual(["b: 0 networks"]);
    expect(server.connections).toHaveLength(2);
    expect(server.lines[0]).toBe('BOUNCERSERV :"user" "run" "u" "network" "status"');
  });

  it("a kept-alive connection that soju closed before reading the next command is retried once on a new one", async () => {
    const template = join(world.dir, "fake-stale-{name}.sock");
    const server = await fakeServer(template.replace("{name}", "b"), (_line, conn, index) => {
      // The 2nd command arrives on a connection soju is tearing down: closed without a byte.
      if (index === 1) conn.socket.destroy();
      else ok(conn, `answer ${index}`);
    });
    const admin = socketAdmin(template);
    expect(await admin.userRun("b", "u", ["network", "status"])).toEqual(["answer 0"]);
    expect(await admin.userRun("b", "u", ["network", "status"])).toEqual(["answer 2"]);
    expect(server.connections).toHaveLength(2);
  });

  it("a missing socket → SojuUnavailable", async () => {
    const admin = socketAdmin(join(world.dir, "nowhere-{name}.sock"));
    const error = await rejection(
      admin.createUser("ghost", { username: "x", disablePassword: true }),
    );
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toContain("nowhere-ghost.sock");
  });

  it("no terminal line within the command timeout → SojuUnavailable (and the connection is dropped)", async () => {
    const template = join(world.dir, "fake-silent-{name}.sock");
    const server = await fakeServer(template.replace("{name}", "b"), (_line, conn, index) => {
      if (index !== 1) ok(conn, `answer ${index}`);
    });
    const admin = socketAdmin(template, [], { commandTimeoutMs: 300 });
    expect(await admin.userRun("b", "u", ["network", "status"])).toEqual(["answer 0"]);
    // On the kept-alive connection: no answer → timeout, and it is not sent again (soju may have run it).
    const error = await rejection(admin.userRun("b", "u", ["network", "status"]));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toBe("soju sent no terminal reply within 300 ms");
    expect(server.lines).toHaveLength(2);
    expect(await admin.userRun("b", "u", ["network", "status"])).toEqual(["answer 2"]);
    expect(server.connections).toHaveLength(2);
  });

  it("re-asks sasl status when soju v0.7.0 dropped the state line, up to 3 times, then says unknown", async () => {
    const template = join(world.dir, "fake-v070-{name}.sock");
    let answersWithBothLines = 3; // the 3rd ask gets both lines
    const server = await fakeServer(template.replace("{name}", "b"), (line, conn, index) => {
      if (line.includes('"sasl" "status" "-network" "flaky"')) {
        if (index + 1 >= answersWithBothLines)
          ok(
            conn,
            'SASL PLAIN enabled with username "bob"',
            'Authenticated on upstream network with account "bob"',
          );
        else ok(conn, 'SASL PLAIN enabled with username "bob"');
      } else {
        ok(conn, 'SASL PLAIN enabled with username "bob"');
      }
    });
    const admin = socketAdmin(template);
    expect(await admin.saslStatus("b", "bob", "flaky")).toEqual({
      plainUsername: "bob",
      state: { kind: "authenticated", account: "bob" },
    });
    expect(server.lines).toHaveLength(3);

    answersWithBothLines = Number.POSITIVE_INFINITY;
    const before = server.lines.length;
    const status = await admin.saslStatus("b", "bob", "never");
    expect(status).toMatchObject({ plainUsername: "bob", state: { kind: "unknown" } });
    expect(server.lines.length - before).toBe(4);
  });

  it("reads split chunks, LF-only lines, FAIL after output, 461 without prefix and ERROR", async () => {
    const template = join(world.dir, "fake-shapes-{name}.sock");
    await fakeServer(template.replace("{name}", "b"), (line, conn) => {
      if (line.includes('"split"')) {
        const reply =
          ":soju.test PRIVMSG * :één\r\n:soju.test PRIVMSG * :two\n:soju.test BOUNCERSERV OK\r\n";
        const bytes = Buffer.from(reply);
        conn.socket.write(bytes.subarray(0, 23)); // in the middle of the first "é"
        setTimeout(() => conn.socket.write(bytes.subarray(23)), 20);
      } else if (line.includes('"fail"')) {
        conn.socket.write(
          ':soju.test PRIVMSG * :partial output\r\n:soju.test FAIL BOUNCERSERV :could not create user: user "x" already exists\r\n',
        );
      } else if (line.includes('"numeric"')) {
        conn.socket.write("461 * BOUNCERSERV :Not enough parameters\r\n");
      } else if (line.includes('"error"')) {
        conn.socket.write("ERROR :Server is shutting down\r\n");
        conn.socket.end();
      } else {
        ok(conn, "fine");
      }
    });
    const admin = socketAdmin(template);
    expect(await admin.userRun("b", "u", ["split"])).toEqual(["één", "two"]);
    const fail = await rejection(admin.userRun("b", "u", ["fail"]));
    expect(fail).toBeInstanceOf(SojuCommandFailed);
    expect((fail as SojuCommandFailed).reply).toBe(
      'could not create user: user "x" already exists',
    );
    const numeric = await rejection(admin.userRun("b", "u", ["numeric"]));
    expect(numeric).toBeInstanceOf(SojuCommandFailed);
    expect((numeric as SojuCommandFailed).reply).toBe("461 Not enough parameters");
    const error = await rejection(admin.userRun("b", "u", ["error"]));
    expect(error).toBeInstanceOf(SojuUnavailable);
    expect(error.message).toContain("Server is shutting down");
    expect(await admin.userRun("b", "u", ["after"])).toEqual(["fine"]);
  });
});
