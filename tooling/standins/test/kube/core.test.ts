/** Core resources (namespaces, secrets, pods) and coordination.k8s.io leases through client-node. */
import {
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type V1Lease,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import { apiError, bouncer, clientsFor, CR, NS, WatchRecorder } from "./helpers";

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
});
afterAll(async () => {
  await kube.stop();
});

describe("namespaces", () => {
  it("has irc-now and default from the start, creates and gets others", async () => {
    expect((await api.core.readNamespace({ name: NS })).status?.phase).toBe("Active");
    expect((await api.core.readNamespace({ name: "default" })).metadata?.name).toBe("default");
    const created = await api.core.createNamespace({ body: { metadata: { name: "tenant-1" } } });
    expect(created.metadata?.labels?.["kubernetes.io/metadata.name"]).toBe("tenant-1");
    expect((await api.core.readNamespace({ name: "tenant-1" })).metadata?.uid).toBe(
      created.metadata?.uid,
    );
  });

  it("validates namespace names as DNS-1123 labels", async () => {
    const { code, status } = await apiError(
      api.core.createNamespace({ body: { metadata: { name: "has.dot" } } }),
    );
    expect(code).toBe(422);
    expect(status.message).toContain("a lowercase RFC 1123 label");
  });
});

describe("secrets", () => {
  it("creates from stringData, reads back base64 data, lists, deletes", async () => {
    const created = await api.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "alice-db", labels: { app: "tenant-db" } },
        stringData: { uri: "postgresql://alice:pw@db:5432/alice", user: "alice" },
      },
    });
    expect(created.type).toBe("Opaque");
    expect(created.stringData).toBeUndefined();
    const read = await api.core.readNamespacedSecret({ namespace: NS, name: "alice-db" });
    expect(Buffer.from(read.data?.uri ?? "", "base64").toString()).toBe(
      "postgresql://alice:pw@db:5432/alice",
    );

    const list = await api.core.listNamespacedSecret({
      namespace: NS,
      labelSelector: "app=tenant-db",
    });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(["alice-db"]);
    expect(list.metadata?.resourceVersion).toBeTruthy();

    const status = await api.core.deleteNamespacedSecret({ namespace: NS, name: "alice-db" });
    expect(status.status).toBe("Success");
    const missing = await apiError(
      api.core.readNamespacedSecret({ namespace: NS, name: "alice-db" }),
    );
    expect(missing.code).toBe(404);
    expect(missing.status.message).toBe('secrets "alice-db" not found');
  });

  it("refuses data that is not base64 with 400", async () => {
    const { code } = await apiError(
      api.core.createNamespacedSecret({
        namespace: NS,
        body: { metadata: { name: "bad" }, data: { key: "not base64!" } },
      }),
    );
    expect(code).toBe(400);
  });

  it("filters by the type field selector", async () => {
    await api.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "tls-one" },
        type: "kubernetes.io/tls",
        data: { "tls.crt": "", "tls.key": "" },
      },
    });
    const list = await api.core.listNamespacedSecret({
      namespace: NS,
      fieldSelector: "type=kubernetes.io/tls",
    });
    expect(list.items.map((s) => s.metadata?.name)).toEqual(["tls-one"]);
  });
});

describe("pods", () => {
  it("lists the pods a runner created by label selector, gets and deletes them", async () => {
    const pod = kube.createPod({
      namespace: NS,
      name: "alice-soju-0",
      labels: { "irc.now/bouncer": "alice" },
      containers: ["soju"],
    });
    kube.createPod({
      namespace: NS,
      name: "bob-soju-0",
      labels: { "irc.now/bouncer": "bob" },
      containers: ["soju"],
    });
    expect(pod.status).toMatchObject({ phase: "Running" });

    const list = await api.core.listNamespacedPod({
      namespace: NS,
      labelSelector: "irc.now/bouncer=alice",
    });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["alice-soju-0"]);
    expect(list.items[0]?.status?.phase).toBe("Running");
    const running = await api.core.listNamespacedPod({
      namespace: NS,
      fieldSelector: "status.phase=Running",
    });
    expect(running.items.map((p) => p.metadata?.name)).toEqual(["alice-soju-0", "bob-soju-0"]);

    const read = await api.core.readNamespacedPod({ namespace: NS, name: "alice-soju-0" });
    expect(read.spec?.containers.map((c) => c.name)).toEqual(["soju"]);

    const deleted = await api.core.deleteNamespacedPod({ namespace: NS, name: "alice-soju-0" });
    expect(deleted.metadata?.name).toBe("alice-soju-0");
    expect(
      (await api.core.listNamespacedPod({ namespace: NS, labelSelector: "irc.now/bouncer=alice" }))
        .items,
    ).toEqual([]);
  });

  it("shows a pod deletion to watchers, so a runner can restart it", async () => {
    kube.createPod({
      namespace: NS,
      name: "carol-soju-0",
      labels: { "irc.now/bouncer": "carol" },
      containers: ["soju"],
    });
    const seen: string[] = [];
    const stop = kube.objects.watch(
      (e) => seen.push(`${e.type} ${e.object.metadata.name}`),
      "pods",
    );
    const w = await WatchRecorder.start(api.watch, `/api/v1/namespaces/${NS}/pods`, {
      labelSelector: "irc.now/bouncer=carol",
    });
    try {
      await w.next((e) => e.type === "ADDED");
      await api.core.deleteNamespacedPod({ namespace: NS, name: "carol-soju-0" });
      await w.next((e) => e.type === "DELETED");
      expect(seen).toEqual(["DELETED carol-soju-0"]);
    } finally {
      w.stop();
      stop();
    }
  });

  it("lets the pod's owner be deleted by garbage collection with its bouncer", async () => {
    const owner = kube.objects.create(CR, bouncer("dave"));
    kube.createPod({
      namespace: NS,
      name: "dave-soju-0",
      containers: ["soju"],
      ownerReferences: [
        { apiVersion: owner.apiVersion, kind: owner.kind, name: "dave", uid: owner.metadata.uid },
      ],
    });
    const w = await WatchRecorder.start(api.watch, `/api/v1/namespaces/${NS}/pods`, {
      fieldSelector: "metadata.name=dave-soju-0",
    });
    try {
      await w.next((e) => e.type === "ADDED");
      kube.objects.delete(CR, NS, "dave");
      await w.next((e) => e.type === "DELETED");
    } finally {
      w.stop();
    }
  });
});

describe("leases", () => {
  const lease = (holder: string): V1Lease => ({
    metadata: { name: "irc-now-worker", namespace: NS },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: new V1MicroTime(),
      renewTime: new V1MicroTime(),
      leaseTransitions: 0,
    },
  });

  it("creates once, then AlreadyExists for a second candidate", async () => {
    const created = await api.coordination.createNamespacedLease({
      namespace: NS,
      body: lease("worker-a"),
    });
    expect(created.spec?.holderIdentity).toBe("worker-a");
    const { code, status } = await apiError(
      api.coordination.createNamespacedLease({ namespace: NS, body: lease("worker-b") }),
    );
    expect(code).toBe(409);
    expect(status).toMatchObject({
      reason: "AlreadyExists",
      details: { group: "coordination.k8s.io", kind: "leases", name: "irc-now-worker" },
    });
  });

  it("renews with the current resourceVersion; a stale takeover gets 409 Conflict", async () => {
    const seenByB = await api.coordination.readNamespacedLease({
      namespace: NS,
      name: "irc-now-worker",
    });
    const seenByA = await api.coordination.readNamespacedLease({
      namespace: NS,
      name: "irc-now-worker",
    });
    const renewed = await api.coordination.replaceNamespacedLease({
      namespace: NS,
      name: "irc-now-worker",
      body: { ...seenByA, spec: { ...seenByA.spec, renewTime: new V1MicroTime() } },
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(
      Number(seenByA.metadata?.resourceVersion),
    );

    const takeover = {
      ...seenByB,
      spec: { ...seenByB.spec, holderIdentity: "worker-b", leaseTransitions: 1 },
    };
    const { code, status } = await apiError(
      api.coordination.replaceNamespacedLease({
        namespace: NS,
        name: "irc-now-worker",
        body: takeover,
      }),
    );
    expect(code).toBe(409);
    expect(status.message).toBe(
      'Operation cannot be fulfilled on leases.coordination.k8s.io "irc-now-worker": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(
      (await api.coordination.readNamespacedLease({ namespace: NS, name: "irc-now-worker" })).spec
        ?.holderIdentity,
    ).toBe("worker-a");
  });

  it("validates leaseDurationSeconds", async () => {
    const { code, status } = await apiError(
      api.coordination.createNamespacedLease({
        namespace: NS,
        body: {
          metadata: { name: "bad-lease" },
          spec: { holderIdentity: "x", leaseDurationSeconds: 0 },
        },
      }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({ field: "spec.leaseDurationSeconds" });
  });

  it("accepts a merge patch on a lease", async () => {
    const patched = await api.coordination.patchNamespacedLease(
      { namespace: NS, name: "irc-now-worker", body: { spec: { holderIdentity: "worker-c" } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(patched.spec?.holderIdentity).toBe("worker-c");
  });
});
