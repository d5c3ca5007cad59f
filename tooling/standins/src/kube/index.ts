/**
 * Kubernetes API stand-in: a real HTTP(S) + WebSocket server on 127.0.0.1 that speaks the
 * Kubernetes REST, watch and exec protocols, so unmodified `@kubernetes/client-node` code
 * works against it with nothing but a kubeconfig. It serves SojuBouncers (from the CRD
 * manifest in @irc-now/k8s), namespaces, secrets, pods (+ exec) and leases, keeps them in
 * memory, and lets its owner run pods, route exec, inspect objects and inject faults.
 * See docs/stand-ins.md for what it models and what it leaves out.
 *
 *   const kube = await startKubeStandin();
 *   const kc = new KubeConfig();
 *   kc.loadFromString(kube.kubeConfigYaml());
 *   …
 *   await kube.stop();
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { loadSojuBouncerCrd, type CustomResourceDefinition } from "@irc-now/k8s";
import { Authorizer, type KubeUser } from "./auth";
import {
  ExecService,
  EXEC_PROTOCOLS,
  type ExecHandler,
  type ExecProtocol,
  type ExecTarget,
} from "./exec";
import { FaultInjector, type KubeFaults } from "./faults";
import {
  kubeConfigDocument,
  kubeConfigYaml,
  writeKubeConfigFile,
  type KubeConfigDocument,
} from "./kubeconfig";
import { localApi, type KubeObjects } from "./local-api";
import type { StoredObject } from "./objects";
import { runPod, type PodInput } from "./pod-runner";
import { Registry } from "./registry";
import { BUILTIN_RESOURCES, customResource, namespaces } from "./resources";
import { KubeRouter } from "./router";
import { ObjectStore } from "./store";
import { selfSignedCertificate, type TlsMaterial } from "./tls";
import { WatchHub } from "./watch";

export type { KubeUser, PolicyRule } from "./auth";
export { CLUSTER_ADMIN_RULES } from "./auth";
export type { ExecHandler, ExecProtocol, ExecRequest, ExecTarget } from "./exec";
export type { FailOptions, HangHandle, HangOptions, KubeFaults, RequestInfo } from "./faults";
export type { KubeConfigDocument } from "./kubeconfig";
export type { KubeObjects } from "./local-api";
export type { PodInput } from "./pod-runner";
export { podImageExecHandler } from "./pod-image";
export type { PodCommand, PodCommandIO, PodImage } from "./pod-image";
export type { KubeObject, ObjectMeta, OwnerReference, StoredObject } from "./objects";
export type {
  DeleteOptions,
  DeleteResult,
  ListOptions,
  ListResult,
  WriteOptions,
} from "./registry";
export type { Status, StatusCause, StatusDetails } from "./status";
export { StatusError } from "./status";
export type { StoreEvent, StoreEventType } from "./store";
export type { TlsMaterial } from "./tls";

export interface KubeStandinOptions {
  /** Namespaces that exist from the start, besides `default`, `kube-system` and `kube-public` (default `["irc-now"]`). */
  namespaces?: string[];
  /** The kubeconfig context's namespace (default: the first of `namespaces`, else `default`). */
  defaultNamespace?: string;
  /** CRDs to serve (default: the SojuBouncer CRD shipped in packages/k8s). */
  crds?: CustomResourceDefinition[];
  /** Bearer token → user and its RBAC-like rules. The admin token (`adminToken`) always exists. */
  users?: Record<string, KubeUser>;
  /** Serve HTTPS: `true` for a fresh self-signed certificate (needs `openssl`), or a certificate (default: HTTP). */
  tls?: boolean | TlsMaterial;
  /** TCP port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Changes kept for watch resumption and paging before they are compacted (default 10 000). */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 60 000 ms, as an apiserver roughly does). */
  bookmarkIntervalMs?: number;
  /** Server-side timeout of watches that name no timeoutSeconds (default 1800 s). */
  watchTimeoutSeconds?: number;
  /** Exec subprotocols offered, in order of preference (default v5 then v4, like Kubernetes ≥ 1.30). */
  execProtocols?: ExecProtocol[];
}

/** A request as the stand-in received it (before faults, authentication or routing). */
export interface ObservedRequest {
  method: string;
  /** The request target exactly as sent: path and query, still percent-encoded. */
  url: string;
  /** A WebSocket upgrade (exec). */
  upgrade: boolean;
}

export interface KubeStandin {
  /** `http://127.0.0.1:<port>` or `https://…`. */
  readonly url: string;
  /** Token of a user allowed everything. */
  readonly adminToken: string;
  /** PEM certificate to trust (HTTPS only). */
  readonly caCert: string | undefined;
  readonly objects: KubeObjects;
  readonly faults: KubeFaults;
  /** Open watch streams (useful to wait until a client's watch is established). */
  readonly activeWatches: number;
  /** Exec sessions in progress. */
  readonly activeExecSessions: number;
  /** Adds or replaces a bearer token's user. */
  setUser(token: string, user: KubeUser): void;
  removeUser(token: string): void;
  /** kubeconfig document for `token` (default: the admin token). */
  kubeConfig(token?: string): KubeConfigDocument;
  /** The same as YAML, for `KubeConfig.loadFromString` or a KUBECONFIG file. */
  kubeConfigYaml(token?: string): string;
  /** Writes the kubeconfig to `path` (mode 0600). */
  writeKubeConfig(path: string, token?: string): Promise<void>;
  /**
   * Calls `listener` for every HTTP request and upgrade the server receives, health checks
   * included (like an apiserver audit log at level Metadata: method and URL). Returns unsubscribe.
   */
  onRequest(listener: (request: ObservedRequest) => void): () => void;
  /** Creates a pod as a kubelet would report it and routes its exec requests. */
  createPod(input: PodInput): StoredObject;
  /** Routes exec requests for a pod (container) to `handler`; dropped when the pod is deleted. Returns unregister. */
  registerExecHandler(target: ExecTarget, handler: ExecHandler): () => void;
  /** Closes every connection and the listener. */
  stop(): Promise<void>;
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public"];

export async function startKubeStandin(options: KubeStandinOptions = {}): Promise<KubeStandin> {
  const wanted = options.namespaces ?? ["irc-now"];
  const defaultNamespace = options.defaultNamespace ?? wanted[0] ?? "default";
  const tls =
    options.tls === true
      ? await selfSignedCertificate()
      : options.tls === false
        ? undefined
        : options.tls;

  const store = new ObjectStore(
    options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit },
  );
  const crds = options.crds ?? [loadSojuBouncerCrd()];
  const registry = new Registry(store, [
    ...BUILTIN_RESOURCES,
    ...crds.map((crd) => customResource(crd)),
  ]);
  for (const ns of new Set([...SYSTEM_NAMESPACES, ...wanted, defaultNamespace])) {
    registry.create(namespaces, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns },
    });
  }

  const auth = new Authorizer(options.users);
  const watches = new WatchHub(registry, {
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    defaultTimeoutSeconds: options.watchTimeoutSeconds ?? 1800,
  });
  const exec = new ExecService(registry, options.execProtocols ?? [...EXEC_PROTOCOLS]);

  const sockets = new Set<Socket>();
  const dropConnections = (): void => {
    exec.abortAll();
    for (const socket of sockets) socket.destroy();
  };
  const faults = new FaultInjector({ closeWatches: () => watches.closeAll(), dropConnections });

  const server: Server =
    tls === undefined ? createHttpServer() : createHttpsServer({ cert: tls.cert, key: tls.key });
  let address = "";
  const router = new KubeRouter({
    registry,
    watches,
    exec,
    auth,
    faults,
    serverAddress: () => address,
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const observers = new Set<(request: ObservedRequest) => void>();
  const observe = (req: IncomingMessage, upgrade: boolean): void => {
    const request = { method: req.method ?? "GET", url: req.url ?? "/", upgrade };
    for (const listener of observers) listener(request);
  };
  server.on("request", (req, res) => {
    observe(req, false);
    void router.handleRequest(req, res);
  });
  server.on("upgrade", (req, socket, head: Buffer) => {
    observe(req, true);
    void router.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `${tls === undefined ? "http" : "https"}://${address}`;

  const configInput = (token?: string) => {
    const input = { server: url, token: token ?? auth.adminToken, namespace: defaultNamespace };
    return tls === undefined ? input : { ...input, caCert: tls.cert };
  };

  return {
    url,
    adminToken: auth.adminToken,
    caCert: tls?.cert,
    objects: localApi(registry),
    faults,
    get activeWatches() {
      return watches.count;
    },
    get activeExecSessions() {
      return exec.activeSessions;
    },
    setUser: (token, user) => auth.setUser(token, user),
    removeUser: (token) => auth.removeUser(token),
    kubeConfig: (token) => kubeConfigDocument(configInput(token)),
    kubeConfigYaml: (token) => kubeConfigYaml(configInput(token)),
    writeKubeConfig: (path, token) => writeKubeConfigFile(path, configInput(token)),
    onRequest: (listener) => {
      observers.add(listener);
      return () => observers.delete(listener);
    },
    createPod: (input) => runPod(registry, exec, input),
    registerExecHandler: (target, handler) => exec.register(target, handler),
    stop: async () => {
      faults.reset();
      watches.closeAll();
      exec.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
