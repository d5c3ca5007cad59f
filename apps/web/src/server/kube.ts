import "server-only";
import { BouncerApi, createKubeClients } from "@irc-now/k8s";
import { env } from "~/env";

const globalForKube = globalThis as unknown as { bouncerApi?: BouncerApi };

export function bouncerApi(): BouncerApi {
  if (!globalForKube.bouncerApi) {
    const config = env();
    const clients = createKubeClients({ kubeconfigPath: config.KUBECONFIG });
    globalForKube.bouncerApi = new BouncerApi(clients.objects, config.K8S_NAMESPACE);
  }
  return globalForKube.bouncerApi;
}
