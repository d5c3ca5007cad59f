/**
 * kubeconfig documents pointing at the stand-in, in the shape `KubeConfig.loadFromString`
 * and kubectl read. Over plain HTTP, @kubernetes/client-node insists on
 * `insecure-skip-tls-verify: true`; over HTTPS the certificate is given as CA.
 */
import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";

export interface KubeConfigDocument {
  apiVersion: "v1";
  kind: "Config";
  clusters: Array<{
    name: string;
    cluster: {
      server: string;
      "certificate-authority-data"?: string;
      "insecure-skip-tls-verify"?: boolean;
    };
  }>;
  users: Array<{ name: string; user: { token: string } }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string; namespace: string } }>;
  "current-context": string;
  preferences: Record<string, never>;
}

export interface KubeConfigInput {
  server: string;
  token: string;
  namespace: string;
  /** PEM CA certificate (HTTPS only). */
  caCert?: string;
  /** Names the cluster, user and context (default `irc-now-standin`). */
  name?: string;
}

export function kubeConfigDocument(input: KubeConfigInput): KubeConfigDocument {
  const name = input.name ?? "irc-now-standin";
  const cluster: KubeConfigDocument["clusters"][number]["cluster"] = { server: input.server };
  if (input.caCert !== undefined)
    cluster["certificate-authority-data"] = Buffer.from(input.caCert).toString("base64");
  else cluster["insecure-skip-tls-verify"] = true;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user: { token: input.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: input.namespace } }],
    "current-context": name,
    preferences: {},
  };
}

export function kubeConfigYaml(input: KubeConfigInput): string {
  return stringify(kubeConfigDocument(input));
}

/** Writes a kubeconfig file readable by its owner only (it holds a token). */
export async function writeKubeConfigFile(path: string, input: KubeConfigInput): Promise<void> {
  await writeFile(path, kubeConfigYaml(input), { mode: 0o600 });
}
