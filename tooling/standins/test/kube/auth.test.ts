/** Bearer-token authentication (401) and RBAC-like authorisation (403) through client-node. */
import { Writable } from "node:stream";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin, type KubeUser } from "../../src/kube/index";
import {
  apiError,
  bouncer,
  clientsFor,
  GROUP,
  NS,
  PLURAL,
  VERSION,
  WatchRecorder,
  crPath,
} from "./helpers";

/** What the worker's Role grants (DESIGN.md: sojubouncers CRUD + status read, secrets get, leases, pods/exec). */
const worker: KubeUser = {
  name: "system:serviceaccount:irc-now:worker",
  rules: [
    {
      apiGroups: [GROUP],
      resources: [PLURAL],
      verbs: ["get", "list", "watch", "patch"],
      namespaces: [NS],
    },
    { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: ["get"], namespaces: [NS] },
    { apiGroups: [""], resources: ["secrets"], verbs: ["get"], namespaces: [NS] },
    { apiGroups: [""], resources: ["pods"], verbs: ["list", "get"], namespaces: [NS] },
    {
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      verbs: ["get", "create", "update"],
      resourceNames: [],
      namespaces: [NS],
    },
  ],
};

let kube: KubeStandin;
const ref = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL };
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

beforeAll(async () => {
  kube = await startKubeStandin({ users: { "worker-token": worker } });
  kube.objects.create("sojubouncers.irc.now", bouncer("alice"));
  kube.createPod({ namespace: NS, name: "alice-soju-0", containers: ["soju"], exec: () => 0 });
});
afterAll(async () => {
  await kube.stop();
});

describe("authentication", () => {
  it("answers an unknown token with 401 Unauthorized", async () => {
    // client-node drops the body of a 401; the code is what it reports.
    const { code } = await apiError(
      clientsFor(kube, "who-is-this").custom.listNamespacedCustomObject(ref),
    );
    expect(code).toBe(401);
  });

  it("answers a request without a token with a 401 Status, but serves health checks", async () => {
    const res = await fetch(`${kube.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "Unauthorized",
      code: 401,
    });
    const health = await fetch(`${kube.url}/healthz`);
    expect(await health.text()).toBe("ok");
  });
});

describe("authorisation", () => {
  const api = () => clientsFor(kube, "worker-token");

  it("allows what the rules grant", async () => {
    const list = (await api().custom.listNamespacedCustomObject(ref)) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
    await api().custom.patchNamespacedCustomObject(
      {
        ...ref,
        name: "alice",
        body: { metadata: { annotations: { "irc.now/upstream-configured": "true" } } },
      },
      mergePatch,
    );
    const w = await WatchRecorder.start(api().watch, crPath());
    await w.next((e) => e.type === "ADDED");
    w.stop();
  });

  it("forbids other verbs with the apiserver's 403 message", async () => {
    const { code, status } = await apiError(
      api().custom.deleteNamespacedCustomObject({ ...ref, name: "alice" }),
    );
    expect(code).toBe(403);
    expect(status).toMatchObject({
      reason: "Forbidden",
      message:
        'sojubouncers.irc.now "alice" is forbidden: User "system:serviceaccount:irc-now:worker" cannot delete resource "sojubouncers" in API group "irc.now" in the namespace "irc-now"',
      details: { name: "alice", group: GROUP, kind: PLURAL },
    });
    expect(kube.objects.find("sojubouncers.irc.now", NS, "alice")).toBeDefined();
  });

  it("treats subresources as resources of their own", async () => {
    const { code, status } = await apiError(
      api().custom.patchNamespacedCustomObjectStatus(
        { ...ref, name: "alice", body: { status: { conditions: [] } } },
        mergePatch,
      ),
    );
    expect(code).toBe(403);
    expect(status.message).toContain('cannot patch resource "sojubouncers/status"');
  });

  it("scopes rules to namespaces, and reports cluster-scope requests as such", async () => {
    const otherNs = await apiError(
      api().core.readNamespacedSecret({ namespace: "default", name: "x" }),
    );
    expect(otherNs.code).toBe(403);
    const allNs = await apiError(
      api().custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }),
    );
    expect(allNs.code).toBe(403);
    expect(allNs.status.message).toBe(
      'sojubouncers.irc.now is forbidden: User "system:serviceaccount:irc-now:worker" cannot list resource "sojubouncers" in API group "irc.now" at the cluster scope',
    );
    const list = await apiError(api().core.listNamespacedSecret({ namespace: NS }));
    expect(list.code).toBe(403);
  });

  it("needs create on pods/exec to exec", async () => {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const run = () =>
      api().exec.exec(NS, "alice-soju-0", "soju", ["true"], sink, null, null, false);
    await expect(run()).rejects.toThrow(/403/);
    kube.setUser("worker-token", {
      ...worker,
      rules: [
        ...worker.rules,
        { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"], namespaces: [NS] },
      ],
    });
    try {
      const ws = await run();
      ws.close();
    } finally {
      kube.setUser("worker-token", worker);
    }
  });
});
