import { fileURLToPath } from "node:url";
import { keycloakService } from "./services/keycloak";
import { ergoService, kubeService } from "./services/kube";
import { postgresService } from "./services/postgres";
import { processService } from "./processes";
import { startStack, type Env } from "./stack";

// `npm run dev`: the whole product on 127.0.0.1 with embedded defaults. Any variable already in
// the environment wins over a default, so real services can replace stand-ins one by one.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const webPort = process.env.PORT ?? "3000";
const workerPort = process.env.WORKER_PORT ?? "9464";

const defaults: Env = {
  NODE_ENV: "development",
  NEXT_TELEMETRY_DISABLED: "1",
  LOG_LEVEL: "info",
  K8S_NAMESPACE: "irc-now",
  WORKER_PORT: workerPort,
};
const baseEnv: Env = {
  ...defaults,
  ...(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Env),
};

const services = [
  postgresService,
  keycloakService,
  ergoService,
  kubeService,
  processService({
    name: "worker",
    command: process.execPath,
    args: ["--import", "tsx", "--watch", "--watch-preserve-output", "src/main.ts"],
    cwd: `${root}apps/worker`,
    env: () => ({ WORKER_PORT: workerPort }),
    readyUrl: () => `http://127.0.0.1:${workerPort}/healthz`,
    info: () => [`http://localhost:${workerPort}/metrics  (/healthz, /readyz)`],
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

async function main(): Promise<void> {
  console.log("irc.now dev: starting local services…");
  const stack = await startStack(services, baseEnv);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nirc.now dev: ${signal}, stopping everything…`);
    await stack.stop();
    console.log("irc.now dev: stopped");
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => void shutdown(signal));

  const banner = stack.info
    .map(({ name, lines }) => `  ${name.padEnd(9)} ${lines.join(`\n  ${" ".repeat(9)} `)}`)
    .join("\n");
  console.log(`\n\x1b[1mirc.now is running\x1b[0m (Ctrl-C stops everything)\n${banner}\n`);
}

main().catch((error: unknown) => {
  console.error("irc.now dev failed:", error instanceof Error ? error.message : error);
  process.exit(1);
});
