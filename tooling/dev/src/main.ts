import { fileURLToPath } from "node:url";
import { envFilePath, removeEnvFile, root, writeEnvFile } from "./env-file";
import { checkPorts, type FixedPort } from "./ports";
import { keycloakPort, keycloakService } from "./services/keycloak";
import { irccloudService } from "./services/irccloud";
import { stripeService } from "./services/stripe";
import { ergoPort, ergoService, kubeService } from "./services/kube";
import { postgresService } from "./services/postgres";
import { processService } from "./processes";
import { startStack, type Env, type Stack } from "./stack";

// `npm run dev`: the whole product on 127.0.0.1 with embedded defaults. Any variable already in
// the environment wins over a default, so real services can replace stand-ins one by one.
const webPort = process.env.PORT ?? "3000";
const workerPort = process.env.WORKER_PORT ?? "9464";

const defaults: Env = {
  NODE_ENV: "development",
  NEXT_TELEMETRY_DISABLED: "1",
  LOG_LEVEL: "info",
  K8S_NAMESPACE: "irc-now",
  WORKER_PORT: workerPort,
  // Loopback like everything else here (production listens on the pod IP for Prometheus).
  WORKER_HOST: "127.0.0.1",
  // The sign-in callback follows the web port.
  AUTH_URL: `http://localhost:${webPort}`,
  // Each bouncer's soju checks IRC logins (app passwords) with the web's `auth http` endpoint.
  DEV_SOJU_AUTH_URL: `http://127.0.0.1:${webPort}${process.env.SOJU_AUTH_PATH ?? "/api/soju/auth"}/{name}`,
};
const baseEnv: Env = {
  ...defaults,
  ...(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Env),
};
const envFile = envFilePath(baseEnv);

/** An address to reach a server bound to `host` (a wildcard bind answers on loopback). */
const reachable = (host = "127.0.0.1") =>
  ["0.0.0.0", "::", ""].includes(host) ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;

const services = [
  postgresService,
  keycloakService,
  ergoService,
  kubeService,
  irccloudService,
  stripeService,
  processService({
    name: "worker",
    command: process.execPath,
    args: ["--import", "tsx", "--watch", "--watch-preserve-output", "src/main.ts"],
    cwd: `${root}apps/worker`,
    env: () => ({ WORKER_PORT: workerPort }),
    readyUrl: (env) => `http://${reachable(env.WORKER_HOST)}:${workerPort}/healthz`,
    info: () => [
      `http://localhost:${workerPort}/metrics  (/healthz, /readyz)`,
      `operator CLI: npm run worker -- status  (finds this stack through ${displayPath(envFile)})`,
    ],
    color: 35,
  }),
  processService({
    name: "web",
    command: process.execPath,
    args: [
      fileURLToPath(import.meta.resolve("next/dist/bin/next", `file://${root}apps/web/`)),
      "dev",
      "-p",
      webPort,
      "-H",
      "127.0.0.1",
    ],
    cwd: `${root}apps/web`,
    env: () => ({ PORT: webPort }),
    readyUrl: () => `http://127.0.0.1:${webPort}/api/healthz`,
    info: () => [`http://localhost:${webPort}`],
    color: 36,
  }),
];

/** The ports that are fixed in this run (a real service given by env needs none). */
function fixedPorts(env: Env): FixedPort[] {
  const ports: FixedPort[] = [
    {
      service: "web",
      variable: "PORT",
      host: "127.0.0.1",
      port: Number(webPort),
      anyFreePort: false,
    },
    {
      service: "worker",
      variable: "WORKER_PORT",
      host: env.WORKER_HOST ?? "127.0.0.1",
      port: Number(workerPort),
      anyFreePort: false,
    },
  ];
  if (!env.KEYCLOAK_ISSUER) ports.push(keycloakPort(env));
  if (!env.ERGO_IRC_URL && !env.ERGO_API_URL) ports.push(ergoPort(env));
  return ports;
}

function displayPath(path: string): string {
  return path.startsWith(root) ? path.slice(root.length) : path;
}

async function main(): Promise<void> {
  // Handlers first: Ctrl-C while starting stops what has started so far.
  const abort = new AbortController();
  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nirc.now dev: ${signal}, stopping everything…`);
    abort.abort(new Error(signal));
    // While starting, startStack stops what it started and main() below finishes the job.
    if (!stack) return;
    removeEnvFile(envFile);
    await stack.stop();
    console.log("irc.now dev: stopped");
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => void shutdown(signal));

  await checkPorts(fixedPorts(baseEnv));
  console.log("irc.now dev: starting local services…");
  try {
    stack = await startStack(services, baseEnv, { signal: abort.signal });
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    console.log("irc.now dev: stopped");
    process.exit(0);
  }
  writeEnvFile(envFile, stack.env);

  const banner = stack.info
    .map(({ name, lines }) => `  ${name.padEnd(9)} ${lines.join(`\n  ${" ".repeat(9)} `)}`)
    .join("\n");
  console.log(`\n\x1b[1mirc.now is running\x1b[0m (Ctrl-C stops everything)\n${banner}\n`);
}

main().catch((error: unknown) => {
  console.error("irc.now dev failed:", error instanceof Error ? error.message : error);
  removeEnvFile(envFile);
  process.exit(1);
});
