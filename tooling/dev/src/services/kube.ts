import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startErgoStandin } from "@irc-now/standins/ergo";
import { startKubeStandin } from "@irc-now/standins/kube";
import { startOperator } from "@irc-now/standins/operator";
import { explainListenError, type FixedPort } from "../ports";
import type { Env, LocalService } from "../stack";

/** ergo's IRC port, fixed so that an IRC client keeps its server setting between runs. */
export function ergoPort(env: Env): FixedPort {
  return {
    service: "ergo",
    variable: "DEV_ERGO_PORT",
    host: "127.0.0.1",
    port: Number(env.DEV_ERGO_PORT ?? 6667),
    anyFreePort: true,
  };
}

/** ergo (IRC + HTTP API) unless ERGO_IRC_URL / ERGO_API_URL name a real one. */
export const ergoService: LocalService = {
  name: "ergo",
  async start(env) {
    if (env.ERGO_IRC_URL || env.ERGO_API_URL)
      return { info: ["using ergo from the environment"], stop: async () => undefined };
    const port = ergoPort(env);
    const ergo = await startErgoStandin({ ircPort: port.port }).catch((error: unknown) => {
      throw explainListenError(error, port);
    });
    return {
      env: {
        ERGO_IRC_URL: ergo.ircUrl,
        ERGO_OPER_NAME: ergo.oper.name,
        ERGO_OPER_PASSWORD: ergo.oper.password,
        SOJU_UPSTREAM_ADDR: `irc+insecure://127.0.0.1:${ergo.ircPort}`,
        DEV_ERGO_API_URL: ergo.apiUrl,
      },
      info: [
        `ergo stand-in: ${ergo.ircUrl} (connect any IRC client; WHOIS shows who is logged in)`,
        `ergo HTTP API: ${ergo.apiUrl}`,
      ],
      stop: () => ergo.stop(),
    };
  },
};

/**
 * Kubernetes API stand-in plus the simulated soju-operator, unless KUBECONFIG names a real
 * cluster. Bouncers created in the portal get a tenant DB, a soju stand-in pod and Ready=True;
 * each soju checks IRC logins with the web's `auth http` endpoint (DEV_SOJU_AUTH_URL, `{name}`
 * is the bouncer).
 */
export const kubeService: LocalService = {
  name: "kube",
  async start(env) {
    if (env.KUBECONFIG)
      return {
        info: [`using the cluster of KUBECONFIG=${env.KUBECONFIG}`],
        stop: async () => undefined,
      };
    if (!env.DEV_POSTGRES_URL)
      throw new Error("the simulated operator needs the embedded PostgreSQL (DEV_POSTGRES_URL)");
    const namespace = env.K8S_NAMESPACE ?? "irc-now";
    const kube = await startKubeStandin({ namespaces: [namespace] });
    const dir = await mkdtemp(join(tmpdir(), "irc-now-dev-kube-"));
    const kubeconfig = join(dir, "config");
    await kube.writeKubeConfig(kubeconfig);
    const operator = startOperator({
      kube,
      postgresUrl: env.DEV_POSTGRES_URL,
      namespace,
      adminSocketPath: join(dir, "soju", "{name}", "admin.sock"),
      readyDelayMs: Number(env.DEV_OPERATOR_READY_DELAY_MS ?? 2_000),
      downstream: true,
      authHttpUrl: env.DEV_SOJU_AUTH_URL,
      log: (line) => {
        if (line.startsWith("[operator]"))
          console.log(`\x1b[33m[operator]\x1b[0m ${line.slice(11)}`);
      },
    });
    return {
      env: { KUBECONFIG: kubeconfig, SOJU_ADMIN_SOCKET: join(dir, "soju", "{name}", "admin.sock") },
      info: [
        `Kubernetes API stand-in: ${kube.url} (KUBECONFIG=${kubeconfig})`,
        "simulated soju-operator: creates a soju stand-in per SojuBouncer",
        ...(env.DEV_SOJU_AUTH_URL
          ? [
              `IRC clients log in to a bouncer with an app password (soju auth http ${env.DEV_SOJU_AUTH_URL})`,
            ]
          : []),
      ],
      stop: async () => {
        await operator.stop();
        await kube.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};
