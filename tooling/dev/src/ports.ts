import { createServer } from "node:net";

/**
 * The fixed ports of `npm run dev`. They stay fixed on purpose: the web app's URL is registered
 * as a redirect URI at Keycloak, the Keycloak issuer URL is part of the OIDC configuration, and
 * developers point browsers, IRC clients and Prometheus at the printed addresses. Everything
 * else (PostgreSQL, the Kubernetes API, ergo's HTTP API) takes a free port.
 */
export interface FixedPort {
  service: string;
  /** The variable that moves it. */
  variable: string;
  host: string;
  port: number;
  /** Whether `0` (any free port) is accepted for this variable. */
  anyFreePort: boolean;
}

/** Resolves whether `host:port` can be listened on right now. */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function advice(p: FixedPort): string {
  return `set ${p.variable}=<port>${p.anyFreePort ? " (0 = any free port)" : ""}`;
}

/** The one-line explanation for a port that is taken. */
export function portInUseMessage(p: FixedPort): string {
  return `${p.service}: ${p.host}:${p.port} is already in use; ${advice(p)}`;
}

/**
 * Checks every fixed port before anything starts, so a second `npm run dev` fails at once,
 * naming each service and the variable that moves it, and leaves nothing behind.
 */
export async function checkPorts(ports: FixedPort[]): Promise<void> {
  const taken: FixedPort[] = [];
  for (const p of ports) {
    if (p.port !== 0 && !(await portIsFree(p.host, p.port))) taken.push(p);
  }
  if (taken.length === 0) return;
  const width = Math.max(...taken.map((p) => p.service.length));
  throw new Error(
    [
      `port${taken.length === 1 ? "" : "s"} already in use (is another \`npm run dev\` running?):`,
      ...taken.map((p) => `  ${p.service.padEnd(width)}  ${p.host}:${p.port}  → ${advice(p)}`),
      "A second stack beside the first also needs its own Next build dir and settings file,",
      "e.g. PORT=3001 WORKER_PORT=9465 DEV_KEYCLOAK_PORT=0 DEV_ERGO_PORT=0 NEXT_DIST_DIR=.next-2 \\",
      "     DEV_ENV_FILE=.env.dev-2 npm run dev",
    ].join("\n"),
  );
}

/** Rewrites a listen EADDRINUSE from a service into the same explanation as checkPorts. */
export function explainListenError(error: unknown, p: FixedPort): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EADDRINUSE" ? new Error(portInUseMessage(p)) : error;
}
