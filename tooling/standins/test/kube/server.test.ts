/** Server-level behaviour: discovery, kubeconfig files, HTTPS, unknown paths. */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  ApisApi,
  CoreApi,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import { bouncer, clientsFor, crPath, GROUP, NS, PLURAL, VERSION, WatchRecorder } from "./helpers";

describe("discovery and kubeconfig", () => {
  let kube: KubeStandin;
  beforeAll(async () => {
    kube = await startKubeStandin();
  });
  afterAll(async () => {
    await kube.stop();
  });

  it("lists the served groups and resources", async () => {
    const { kc } = clientsFor(kube);
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name).sort()).toEqual(["coordination.k8s.io", GROUP]);
    const core = await kc.makeApiClient(CoreApi).getAPIVersions();
    expect(core.versions).toEqual(["v1"]);

    const res = await fetch(`${kube.url}/apis/${GROUP}/${VERSION}`, {
      headers: { Authorization: `Bearer ${kube.adminToken}` },
    });
    const list = (await res.json()) as {
      resources: Array<{ name: string; namespaced: boolean; kind: string }>;
    };
    expect(list.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: PLURAL, namespaced: true, kind: "SojuBouncer" }),
        expect.objectContaining({
          name: `${PLURAL}/status`,
          namespaced: true,
          kind: "SojuBouncer",
        }),
      ]),
    );
  });

  it("answers unknown paths with a NotFound Status", async () => {
    const res = await fetch(`${kube.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/gadgets`, {
      headers: { Authorization: `Bearer ${kube.adminToken}` },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      reason: "NotFound",
      message: "the server could not find the requested resource",
    });
  });

  it("writes a kubeconfig file (0600) that client-node loads with the context namespace", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kubeconfig-"));
    try {
      const path = join(dir, "config");
      await kube.writeKubeConfig(path);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      expect(kc.getCurrentCluster()?.server).toBe(kube.url);
      const objects = KubernetesObjectApi.makeApiClient(kc);
      // No namespace in the object: the context's namespace (irc-now) is used.
      const body = {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "SojuBouncer",
        metadata: { name: "from-file" },
        spec: { username: "f" },
      };
      const created = await objects.create<KubernetesObject>(body);
      expect(created.metadata?.namespace).toBe(NS);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;

describe.skipIf(!hasOpenssl)("HTTPS", () => {
  let kube: KubeStandin;
  beforeAll(async () => {
    kube = await startKubeStandin({ tls: true });
  });
  afterAll(async () => {
    await kube.stop();
  });

  it("serves REST, watch and exec over TLS with the certificate as CA", async () => {
    expect(kube.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(kube.kubeConfig().clusters[0]?.cluster["certificate-authority-data"]).toBeTruthy();
    const api = clientsFor(kube);
    const w = await WatchRecorder.start(api.watch, crPath());
    await api.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: PLURAL,
      body: bouncer("secure"),
    });
    await w.next((e) => e.type === "ADDED" && e.object.metadata?.name === "secure");
    w.stop();

    kube.createPod({
      namespace: NS,
      name: "secure-0",
      containers: ["soju"],
      exec: (req) => void req.stdout.write("over tls"),
    });
    const chunks: Buffer[] = [];
    const out = new Writable({ write: (c: Buffer, _e, cb) => void (chunks.push(c), cb()) });
    const status = await new Promise((resolve, reject) => {
      api.exec.exec(NS, "secure-0", "soju", ["x"], out, null, null, false, resolve).catch(reject);
    });
    expect(status).toEqual({ metadata: {}, status: "Success" });
    expect(Buffer.concat(chunks).toString()).toBe("over tls");
  });
});
