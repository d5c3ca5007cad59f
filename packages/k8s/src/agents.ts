import { createHash } from "node:crypto";
import type { Agent } from "node:http";
import type { Cluster, KubeConfig } from "@kubernetes/client-node";

type CreateAgent = (cluster: Cluster | null, agentOptions: Record<string, unknown>) => Agent;

const fingerprint = (cluster: Cluster | null, options: Record<string, unknown>): string =>
  createHash("sha256")
    .update(cluster?.server ?? "")
    .update(cluster?.proxyUrl ?? "")
    .update(
      JSON.stringify(options, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("base64") : v)),
    )
    .digest("hex");

/**
 * client-node 1.x builds a new http(s) Agent, so a new TCP (and TLS) connection, for every API
 * call. This makes a KubeConfig reuse one keep-alive agent per server and TLS material (a new
 * one whenever certificates change), which halves the cost of a call on a busy web replica.
 * It patches the instance's private `createAgent`; if a client-node upgrade renames it, the
 * patch does nothing and client-node's own behaviour remains.
 */
const patched = Symbol("irc-now.keepAliveAgents");

export function withKeepAliveAgents(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent?: CreateAgent; [patched]?: true };
  const original = target.createAgent;
  if (typeof original !== "function" || target[patched]) return kc;
  target[patched] = true;
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, agentOptions) => {
    const options = { ...agentOptions, keepAlive: true };
    const key = fingerprint(cluster, options);
    let agent = agents.get(key);
    if (!agent) {
      agent = original.call(kc, cluster, options);
      // Certificates rotate rarely; keep the cache from growing without bound anyway.
      if (agents.size >= 8) agents.clear();
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}
