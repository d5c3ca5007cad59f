import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "@irc-now/db/testing";
import { startStack, type Stack } from "@irc-now/dev";
import {
  ergoService,
  irccloudService,
  keycloakService,
  kubeService,
  postgresService,
  stripeService,
} from "@irc-now/dev/services";
import type { UserInput } from "@irc-now/standins/keycloak";
import type { Operator } from "@irc-now/standins/operator";
import { keycloakWithUsers } from "./keycloak";
import { kubeWithOperator } from "./kube-operator";
import { startWebServer, type WebServer } from "./web-server";

const workerDir = fileURLToPath(new URL("../../../apps/worker", import.meta.url));

export interface Product {
  stack: Stack;
  web: WebServer;
  workerUrl: string;
  workerOutput: () => string;
  /** The simulated operator, with `sojuAuthHttp` (its bouncers' soju addresses). */
  operator?: Operator;
  stop(): Promise<void>;
}

/**
 * The whole product as `npm run dev` composes it (embedded PostgreSQL, Keycloak, ergo, Kubernetes
 * API + operator stand-ins), but with the production build of the web app and the real worker.
 * `extraUsers`: Keycloak logins besides alice and admin. `sojuAuthHttp`: every soju checks IRC
 * logins with the web's `auth http` endpoint, as in production (and `operator` is returned).
 */
export async function startProduct(
  options: { extraUsers?: UserInput[]; sojuAuthHttp?: boolean; irccloudUrl?: string } = {},
): Promise<Product> {
  const webPort = await freePort();
  const workerPort = await freePort();
  const authUrl = `http://127.0.0.1:${webPort}`;
  const keycloak = options.extraUsers ? keycloakWithUsers(options.extraUsers) : keycloakService;
  const holder: { operator?: Operator } = {};
  const kube = options.sojuAuthHttp ? kubeWithOperator(holder) : kubeService;
  const stack = await startStack(
    [postgresService, keycloak, ergoService, kube, irccloudService, stripeService],
    {
      AUTH_URL: authUrl,
      // A test may bring its own IRCCloud stand-in (irccloudService then starts none).
      ...(options.irccloudUrl ? { IRCCLOUD_URL: options.irccloudUrl } : {}),
      ...(options.sojuAuthHttp ? { DEV_SOJU_AUTH_URL: `${authUrl}/api/soju/auth/{name}` } : {}),
      K8S_NAMESPACE: "irc-now",
      DEV_KEYCLOAK_PORT: "0",
      DEV_ERGO_PORT: "0",
      DEV_OPERATOR_READY_DELAY_MS: "500",
    },
  );
  const env: Record<string, string> = Object.fromEntries(
    Object.entries(stack.env).filter(([k]) => !k.startsWith("DEV_")),
  );
  const worker: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: workerDir,
    env: {
      PATH: process.env.PATH ?? "",
      ...env,
      WORKER_PORT: String(workerPort),
      VERIFY_INTERVAL_S: "5",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let workerOutput = "";
  worker.stdout?.on("data", (d: Buffer) => (workerOutput += d.toString()));
  worker.stderr?.on("data", (d: Buffer) => (workerOutput += d.toString()));
  const workerExited = new Promise<void>((r) => worker.once("exit", () => r()));
  let web: WebServer;
  try {
    web = await startWebServer({ ...env, PORT: String(webPort) }, webPort);
  } catch (error) {
    worker.kill("SIGKILL");
    await stack.stop();
    throw error;
  }
  return {
    stack,
    web,
    workerUrl: `http://127.0.0.1:${workerPort}`,
    workerOutput: () => workerOutput,
    operator: holder.operator,
    async stop() {
      await web.stop();
      if (worker.exitCode === null) {
        worker.kill("SIGTERM");
        await Promise.race([workerExited, new Promise((r) => setTimeout(r, 10_000))]);
        if (worker.exitCode === null) worker.kill("SIGKILL");
      }
      await stack.stop();
    },
  };
}
