import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export interface HealthServerOptions {
  port: number;
  /** WORKER_HOST: every IPv4 interface unless given (`npm run dev` keeps it on 127.0.0.1). */
  host?: string;
  registry: Registry;
  readiness: () => Promise<Readiness>;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = "application/json",
): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

async function handle(
  options: HealthServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://worker").pathname;
  if (req.method !== "GET" && req.method !== "HEAD")
    return send(res, 405, JSON.stringify({ error: "method not allowed" }));
  switch (path) {
    case "/healthz":
      // Liveness: the event loop answers. Dependencies belong to /readyz.
      return send(res, 200, JSON.stringify({ status: "ok" }));
    case "/readyz": {
      const readiness = await options.readiness();
      return send(
        res,
        readiness.ready ? 200 : 503,
        JSON.stringify({ status: readiness.ready ? "ready" : "not ready", ...readiness.checks }),
      );
    }
    case "/metrics":
      return send(res, 200, await options.registry.metrics(), options.registry.contentType);
    default:
      return send(res, 404, JSON.stringify({ error: "not found" }));
  }
}

/** Serves /healthz, /readyz and /metrics (not exposed publicly; Prometheus scrapes it). */
export async function startHealthServer(options: HealthServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    handle(options, req, res).catch(() =>
      send(res, 500, JSON.stringify({ error: "internal error" })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  return server;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
