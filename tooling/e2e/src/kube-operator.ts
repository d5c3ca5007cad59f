import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LocalService } from "@irc-now/dev";
import { startKubeStandin } from "@irc-now/standins/kube";
import { startOperator, type Operator } from "@irc-now/standins/operator";

/**
 * The Kubernetes API stand-in and simulated operator as `npm run dev` starts them (each soju
 * with a downstream listener and, when DEV_SOJU_AUTH_URL is set, `auth http` to the web), but
 * handing the operator to the test (`holder.operator`): a raw IRC client needs the address of
 * a bouncer's soju.
 */
export function kubeWithOperator(holder: { operator?: Operator }): LocalService {
  return {
    name: "kube",
    async start(env) {
      if (!env.DEV_POSTGRES_URL) throw new Error("the simulated operator needs DEV_POSTGRES_URL");
      const namespace = env.K8S_NAMESPACE ?? "irc-now";
      const kube = await startKubeStandin({ namespaces: [namespace] });
      const dir = await mkdtemp(join(tmpdir(), "irc-now-e2e-kube-"));
      const kubeconfig = join(dir, "config");
      await kube.writeKubeConfig(kubeconfig);
      const adminSocketPath = join(dir, "soju", "{name}", "admin.sock");
      const operator = startOperator({
        kube,
        postgresUrl: env.DEV_POSTGRES_URL,
        namespace,
        adminSocketPath,
        readyDelayMs: Number(env.DEV_OPERATOR_READY_DELAY_MS ?? 500),
        downstream: true,
        authHttpUrl: env.DEV_SOJU_AUTH_URL,
        log: () => undefined,
      });
      holder.operator = operator;
      return {
        env: { KUBECONFIG: kubeconfig, SOJU_ADMIN_SOCKET: adminSocketPath },
        stop: async () => {
          await operator.stop();
          await kube.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  };
}
