import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort, kitStart, makeStateDir, PeersKitError, withFreshPorts } from "./kit";
import { track } from "./registry";

/** What a running real kube-apiserver (v1.24.0-alpha.1 + etcd, from the kit) is: plain data. */
export interface KubeFacts {
  /** `https://127.0.0.1:<port>` */
  apiUrl: string;
  /** Contexts `admin` (current; group system:masters) and `limited` (no RBAC bindings). */
  kubeconfigPath: string;
  /** PEM file of the CA that signed the serving certificate. */
  caFile: string;
  adminToken: string;
  limitedToken: string;
  etcdUrl: string;
  stateDir: string;
  logFile: string;
  pid: number;
  etcdPid: number;
}

export interface StartKubeOptions {
  /** State directory (created when missing, kept after stop). Default: a new one, removed on stop. */
  stateDir?: string;
  /** Default: free ports. */
  port?: number;
  etcdPort?: number;
  etcdPeerPort?: number;
  /** Seconds to wait for /readyz (default 180). */
  startTimeoutS?: number;
}

export interface RealKube extends KubeFacts {
  facts(): KubeFacts;
  /** The kubeconfig's YAML (e.g. for `KubeConfig.loadFromString`). */
  kubeconfigYaml(): string;
  /** Stops the apiserver, then etcd; removes the state dir when this call created it. */
  stop(): Promise<void>;
}

/** Where etcd is (ETCD_BIN, PATH or /usr/bin/etcd), or null. */
export function findEtcd(): string | null {
  if (process.env.ETCD_BIN) return existsSync(process.env.ETCD_BIN) ? process.env.ETCD_BIN : null;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "etcd"))) return join(dir, "etcd");
  }
  return existsSync("/usr/bin/etcd") ? "/usr/bin/etcd" : null;
}

/**
 * Starts etcd + the kit's kube-apiserver on 127.0.0.1 (RBAC, static tokens; a cold start takes
 * 5–10 s and unpacks 70 MB into the state dir). There is no controller-manager, scheduler or
 * kubelet: pods stay Pending, pods/exec cannot work, nothing garbage-collects, and a Pod needs its
 * ServiceAccount to exist (create `default` yourself).
 */
export async function startKube(options: StartKubeOptions = {}): Promise<RealKube> {
  if (findEtcd() === null) {
    throw new PeersKitError(
      "kube-apiserver needs etcd: apt-get install -y etcd-server (or set ETCD_BIN)",
    );
  }
  const owned = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await makeStateDir("kube-"));
  const stop = track("kube.sh", stateDir, owned);
  try {
    const facts = await withFreshPorts(async () =>
      kitStart("kube.sh", [stateDir, String(options.port ?? (await freePort()))], {
        ...process.env,
        KUBE_ETCD_PORT: String(options.etcdPort ?? (await freePort())),
        KUBE_ETCD_PEER_PORT: String(options.etcdPeerPort ?? (await freePort())),
        KUBE_START_TIMEOUT: String(options.startTimeoutS ?? 180),
      }),
    );
    const need = (key: string): string => {
      const value = facts[key];
      if (value === undefined) throw new Error(`the kit did not report ${key}`);
      return value;
    };
    const kube: KubeFacts = {
      apiUrl: need("KUBE_API_URL"),
      kubeconfigPath: need("KUBECONFIG"),
      caFile: need("KUBE_CA_FILE"),
      adminToken: need("KUBE_ADMIN_TOKEN"),
      limitedToken: need("KUBE_LIMITED_TOKEN"),
      etcdUrl: need("KUBE_ETCD_URL"),
      stateDir,
      logFile: need("KUBE_APISERVER_LOG"),
      pid: Number(need("PID")),
      etcdPid: Number(need("ETCD_PID")),
    };
    return {
      ...kube,
      facts: () => ({ ...kube }),
      kubeconfigYaml: () => readFileSync(kube.kubeconfigPath, "utf8"),
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** The kubeconfig YAML of a running kube-apiserver given only its facts (e.g. from `inject`). */
export function kubeconfigYaml(kube: KubeFacts): string {
  return readFileSync(kube.kubeconfigPath, "utf8");
}
