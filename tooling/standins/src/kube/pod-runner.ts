/**
 * Pods the stand-in's owner "runs": created like any pod, bound to the stand-in node,
 * brought to the phase asked for with the status a kubelet would report, and wired to exec
 * handlers — the part of a kubelet the portal can observe.
 */
import type { ExecHandler, ExecService } from "./exec";
import { nowTimestamp, type KubeObject, type OwnerReference, type StoredObject } from "./objects";
import type { Registry } from "./registry";
import { pods } from "./resources";

const NODE_NAME = "standin-node";
const IMAGE = "irc-now/standin";

/** A pod the caller "runs": created, scheduled to the stand-in node and (by default) Running. */
export interface PodInput {
  namespace: string;
  name?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  /** Container names, or name + image (default one container named `main`). */
  containers?: Array<string | { name: string; image?: string }>;
  /** Phase after creation (default Running; a Pending pod exists but refuses exec). */
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
  /** Exec handler for every container, or per container name. */
  exec?: ExecHandler | Record<string, ExecHandler>;
}

export function runPod(registry: Registry, exec: ExecService, input: PodInput): StoredObject {
  const containers = (input.containers ?? ["main"]).map((c) =>
    typeof c === "string" ? { name: c, image: IMAGE } : { name: c.name, image: c.image ?? IMAGE },
  );
  const metadata: KubeObject["metadata"] = { namespace: input.namespace };
  if (input.name !== undefined) metadata.name = input.name;
  if (input.generateName !== undefined) metadata.generateName = input.generateName;
  if (input.labels !== undefined) metadata.labels = input.labels;
  if (input.annotations !== undefined) metadata.annotations = input.annotations;
  if (input.ownerReferences !== undefined) metadata.ownerReferences = input.ownerReferences;
  const pod = registry.create(pods, input.namespace, {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: { containers, nodeName: NODE_NAME },
  });
  const target = { namespace: input.namespace, pod: pod.metadata.name };
  if (typeof input.exec === "function") {
    exec.register(target, input.exec);
  } else {
    for (const [container, handler] of Object.entries(input.exec ?? {})) {
      exec.register({ ...target, container }, handler);
    }
  }
  // Handlers are in place before the pod reports Running, so a watcher can exec at once.
  const phase = input.phase ?? "Running";
  if (phase === "Pending") return pod;
  const status = podStatus(phase, containers);
  return registry.update(pods, input.namespace, pod.metadata.name, { ...pod, status }, "status");
}

/** The status a kubelet reports for a pod whose containers all started. */
function podStatus(
  phase: "Running" | "Succeeded" | "Failed",
  containers: Array<{ name: string; image: string }>,
): Record<string, unknown> {
  const now = nowTimestamp();
  const running = phase === "Running";
  const condition = (type: string, status: boolean) => ({
    type,
    status: status ? "True" : "False",
    lastProbeTime: null,
    lastTransitionTime: now,
  });
  return {
    phase,
    conditions: [
      condition("Initialized", true),
      condition("Ready", running),
      condition("ContainersReady", running),
      condition("PodScheduled", true),
    ],
    hostIP: "127.0.0.1",
    podIP: "127.0.0.1",
    podIPs: [{ ip: "127.0.0.1" }],
    startTime: now,
    qosClass: "BestEffort",
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: "",
      containerID: `standin://${c.name}`,
      ready: running,
      started: running,
      restartCount: 0,
      state: running
        ? { running: { startedAt: now } }
        : {
            terminated: {
              exitCode: phase === "Succeeded" ? 0 : 1,
              reason: phase === "Succeeded" ? "Completed" : "Error",
              startedAt: now,
              finishedAt: now,
            },
          },
    })),
  };
}
