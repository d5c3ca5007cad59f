import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
} from "@kubernetes/client-node";
import { withKeepAliveAgents } from "./agents";

export interface KubeClients {
  kubeConfig: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

export interface KubeClientOptions {
  /** Path of a kubeconfig file; absent: in-cluster service account, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** An already loaded config (tests point it at the stand-in). */
  kubeConfig?: KubeConfig;
}

export function loadKubeConfig(options: KubeClientOptions = {}): KubeConfig {
  if (options.kubeConfig) return withKeepAliveAgents(options.kubeConfig);
  const kc = new KubeConfig();
  if (options.kubeconfigPath) kc.loadFromFile(options.kubeconfigPath);
  else kc.loadFromDefault(); // in-cluster when KUBERNETES_SERVICE_HOST is set
  return withKeepAliveAgents(kc);
}

export function createKubeClients(options: KubeClientOptions = {}): KubeClients {
  const kubeConfig = loadKubeConfig(options);
  return {
    kubeConfig,
    objects: KubernetesObjectApi.makeApiClient(kubeConfig),
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
  };
}
