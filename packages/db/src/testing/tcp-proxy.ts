import net from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, to fault a client's connection the way a
 * network or a server does: `stall()` keeps every connection open but forwards nothing (a hung
 * server or a partition), `down()` cuts every connection and refuses new ones (a restart, as
 * the clients see it: sessions end, and the server answers again after `up()`).
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host:port replaced by the proxy's. */
  via(url: string): string;
  stall(): void;
  down(): void;
  /** Forward again (new connections; stalled ones resume). */
  up(): void;
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: "up" | "stall" | "down" = "up";
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    if (mode === "down") return client.destroy();
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
    if (mode === "stall") {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const each = (f: (s: net.Socket) => void) => {
    for (const [a, b] of pairs) {
      f(a);
      f(b);
    }
  };
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      return u.toString();
    },
    stall() {
      mode = "stall";
      each((s) => {
        s.unpipe();
        s.pause();
      });
    },
    down() {
      mode = "down";
      each((s) => s.destroy());
    },
    up() {
      if (mode === "stall")
        for (const [a, b] of pairs) {
          a.pipe(b);
          b.pipe(a);
          a.resume();
          b.resume();
        }
      mode = "up";
    },
    get connections() {
      return pairs.size;
    },
    close: () =>
      new Promise<void>((r) => {
        each((s) => s.destroy());
        server.close(() => r());
      }),
  };
}
