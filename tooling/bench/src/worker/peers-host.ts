/**
 * The worker benchmark's peers in a process of their own (forked by ./peers.ts): the Kubernetes
 * API stand-in and one simulated soju-operator per namespace, with each bouncer's soju stand-in;
 * the ergo stand-in in a further process (./ergo-host.ts), forked from here. In production
 * ergo, soju and the API server are other processes on other machines; sharing the worker's event loop would charge their CPU to the worker and make
 * anything it runs side by side wait for them (issue 17: setups were bound by the one core of
 * a bench process that held everything).
 *
 * Commands arrive over the IPC channel ({ id, op, … }) and are answered { id, value } or
 * { id, error }. Events: `ready` / `annotated` when the API stand-in commits a bouncer's first
 * Ready=True or first `irc.now/upstream-configured` annotation, timestamped here (epoch ms,
 * sub-millisecond) so Ready → annotated is measured where both are committed.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  LABEL_OWNER,
  SOJU_BOUNCER_API_VERSION,
  SOJU_BOUNCER_KIND,
  type SojuBouncer,
} from "@irc-now/k8s";
import { startKubeStandin, type KubeStandin, type StoreEvent } from "@irc-now/standins/kube";
import { startOperator, type Operator } from "@irc-now/standins/operator";
import { endChild } from "./child";
import type { HostEvent, HostReply, HostRequest, PeersInfo } from "./peers-protocol";
import { chunks, until } from "./stats";

const CR = "sojubouncers.irc.now";
/** The same clock in every process: epoch milliseconds with performance.now()'s resolution. */
const now = () => performance.timeOrigin + performance.now();

const send = (message: HostEvent | HostReply) => process.send?.(message);

const readyOf = (o: StoreEvent["object"]) =>
  (o.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions?.find(
    (c) => c.type === "Ready",
  )?.status === "True";
const annotatedOf = (o: StoreEvent["object"]) =>
  o.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED] === "true";

interface OpenNamespace {
  operator: Operator;
  /** API requests into this namespace by kind (`GET sojubouncers`, `exec`…), while open. */
  requests: Record<string, number>;
  ready: Set<string>;
  annotated: Set<string>;
  unwatch: () => void;
}

let kube: KubeStandin | undefined;
let ergo: ChildProcess | undefined;
let dir = "";
let postgresUrl = "";
const namespaces = new Map<string, OpenNamespace>();

function open(ns: string, readyDelayMs: number, withObjects: boolean): void {
  if (!kube) throw new Error("not started");
  if (namespaces.has(ns)) throw new Error(`namespace ${ns} is open already`);
  const k = kube;
  const operator = startOperator({
    kube: k,
    postgresUrl,
    namespace: ns,
    adminSocketPath: join(dir, ns, "{name}", "admin.sock"),
    readyDelayMs,
  });
  const state: OpenNamespace = {
    operator,
    requests: {},
    ready: new Set(),
    annotated: new Set(),
    unwatch: () => {},
  };
  state.unwatch = k.objects.watch((event) => {
    const o = event.object;
    if (o.metadata.namespace !== ns || event.type === "DELETED") return;
    const name = o.metadata.name;
    const t = now();
    if (readyOf(o) && !state.ready.has(name)) {
      state.ready.add(name);
      send({
        ev: "ready",
        ns,
        name,
        t,
        ...(withObjects ? { object: o as unknown as SojuBouncer } : {}),
      });
    }
    if (annotatedOf(o) && !state.annotated.has(name)) {
      state.annotated.add(name);
      send({ ev: "annotated", ns, name, t });
    }
  }, CR);
  namespaces.set(ns, state);
}

function create(ns: string, items: { name: string; ownerId: string }[]): void {
  if (!kube) throw new Error("not started");
  for (const { name, ownerId } of items)
    kube.objects.create(CR, {
      apiVersion: SOJU_BOUNCER_API_VERSION,
      kind: SOJU_BOUNCER_KIND,
      metadata: { name, namespace: ns, labels: { [LABEL_OWNER]: ownerId } },
      spec: { username: name, plan: "free" },
    });
}

/**
 * `GET sojubouncers`, `PATCH sojubouncers`, `exec`, `GET pods (watch)`…: the kind of an API
 * request into a namespace, from its method and path (no names, no query values).
 */
function requestKind(
  method: string,
  url: string,
  upgrade: boolean,
): { ns: string; kind: string } | null {
  const [path = "", query = ""] = url.split("?");
  const m = /\/namespaces\/([^/]+)\/([^/]+)(?:\/[^/]+(?:\/([^/]+))?)?$/.exec(path);
  if (!m) return null;
  const [, ns = "", resource = "", sub] = m;
  if (sub === "exec" || upgrade) return { ns, kind: "exec" };
  const watch = /(^|&)watch=(true|1)/.test(query) ? " (watch)" : "";
  return { ns, kind: `${method} ${resource}${sub ? `/${sub}` : ""}${watch}` };
}

/** Deletes the namespace's bouncers `parallel` at a time (pod, secret and DB go), then its operator. */
async function close(ns: string, parallel: number): Promise<Record<string, number>> {
  const state = namespaces.get(ns);
  if (!kube) return {};
  const requests = { ...state?.requests };
  const k = kube;
  state?.unwatch();
  const names = k.objects.list(CR, ns).items.map((o) => o.metadata.name);
  for (const chunk of chunks(names, parallel)) {
    for (const name of chunk) if (k.objects.find(CR, ns, name)) k.objects.delete(CR, ns, name);
    await until(
      () => !chunk.some((n) => k.objects.find("secrets", ns, `${n}-db`)),
      "bouncer teardown",
      120_000,
    ).catch(() => undefined);
  }
  await state?.operator.stop();
  namespaces.delete(ns);
  return requests;
}

async function start(request: { namespaces: string[]; dir: string; postgresUrl: string }) {
  dir = request.dir;
  postgresUrl = request.postgresUrl;
  kube = await startKubeStandin({ namespaces: request.namespaces });
  const kubeconfig = join(dir, "kubeconfig");
  await kube.writeKubeConfig(kubeconfig);
  kube.onRequest(({ method, url, upgrade }) => {
    const r = requestKind(method, url, upgrade);
    const state = r && namespaces.get(r.ns);
    if (r && state) state.requests[r.kind] = (state.requests[r.kind] ?? 0) + 1;
  });
  // Forked with this process's flags (tsx's loader); it answers with its address once listening.
  ergo = fork(fileURLToPath(new URL("./ergo-host.ts", import.meta.url)), {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const [address] = (await once(ergo, "message")) as [PeersInfo["ergo"]];
  const info: PeersInfo = { kubeconfig, ergo: address, pid: process.pid };
  return info;
}

async function stop(): Promise<void> {
  for (const ns of [...namespaces.keys()]) await close(ns, 10).catch(() => undefined);
  if (ergo) await endChild(ergo);
  ergo = undefined;
  await kube?.stop();
  kube = undefined;
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case "start":
      return start(request);
    case "open":
      return open(request.ns, request.readyDelayMs, request.withObjects);
    case "create":
      return create(request.ns, request.items);
    case "close":
      return close(request.ns, request.parallel);
    case "stop":
      return stop();
  }
}

process.on("message", (message: HostRequest) => {
  void handle(message).then(
    (value) => send({ id: message.id, value }),
    (error: unknown) =>
      send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
// The bench went away (crashed or killed): do not outlive it.
process.on("disconnect", () => {
  void stop().finally(() => process.exit(0));
});
