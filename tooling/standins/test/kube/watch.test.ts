/**
 * Watch semantics through client-node's Watch and informer: event round trips, resuming
 * from a resourceVersion, 410 Expired after compaction, bookmarks, timeouts and selector
 * transitions.
 */
import {
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import {
  bouncer,
  clientsFor,
  CR,
  crPath,
  GROUP,
  PLURAL,
  VERSION,
  WatchRecorder,
  type SojuBouncer,
} from "./helpers";

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const recorders: WatchRecorder[] = [];
let namespaceCounter = 0;

/** A fresh namespace per test keeps watches independent. */
function freshNamespace(): string {
  namespaceCounter += 1;
  const name = `watch-${namespaceCounter}`;
  kube.objects.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

function inNs(
  namespace: string,
  name: string,
  spec?: Record<string, unknown>,
  metadata: Record<string, unknown> = {},
): SojuBouncer {
  return bouncer(name, spec, { ...metadata, namespace });
}

async function watchCr(
  namespace: string,
  query: Record<string, string | number | boolean> = {},
): Promise<WatchRecorder> {
  const recorder = await WatchRecorder.start(api.watch, crPath(namespace), query);
  recorders.push(recorder);
  return recorder;
}

beforeAll(async () => {
  kube = await startKubeStandin({ bookmarkIntervalMs: 50 });
  api = clientsFor(kube);
});
afterAll(async () => {
  for (const r of recorders) r.stop();
  await kube.stop();
});

describe("watch", () => {
  it("streams ADDED for existing objects, then ADDED/MODIFIED/DELETED for changes", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "before") });
    const w = await watchCr(ns);
    await w.next((e) => e.type === "ADDED" && e.object.metadata?.name === "before");

    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "during") });
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "during", body: { spec: { plan: "pro" } } },
      mergePatch,
    );
    await api.custom.patchNamespacedCustomObjectStatus(
      {
        ...ref,
        name: "during",
        body: { status: { conditions: [{ type: "Ready", status: "True" }] } },
      },
      mergePatch,
    );
    await api.custom.deleteNamespacedCustomObject({ ...ref, name: "during" });
    await w.next((e) => e.type === "DELETED");

    expect(w.summary()).toEqual([
      "ADDED before",
      "ADDED during",
      "MODIFIED during",
      "MODIFIED during",
      "DELETED during",
    ]);
    const [, added, specChange, statusChange, deleted] = w.events;
    expect((specChange?.object as SojuBouncer).spec?.plan).toBe("pro");
    expect((statusChange?.object as SojuBouncer).status?.conditions?.[0]?.status).toBe("True");
    expect(Number(deleted?.object.metadata?.resourceVersion)).toBeGreaterThan(
      Number(statusChange?.object.metadata?.resourceVersion),
    );
    expect(added?.object.kind).toBe("SojuBouncer");
    expect(added?.object.apiVersion).toBe(`${GROUP}/${VERSION}`);
  });

  it("resumes from a list's resourceVersion with exactly the later changes", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "old") });
    const list = (await api.custom.listNamespacedCustomObject(ref)) as {
      metadata: { resourceVersion: string };
    };
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "new") });
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "old", body: { spec: { plan: "pro" } } },
      mergePatch,
    );

    const w = await watchCr(ns, { resourceVersion: list.metadata.resourceVersion });
    await w.next((e) => e.type === "MODIFIED");
    expect(w.summary()).toEqual(["ADDED new", "MODIFIED old"]);
  });

  it("answers a watch from a compacted resourceVersion with an ERROR 410 Expired event and ends it", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: inNs(ns, "a"),
    })) as SojuBouncer;
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "b") });
    kube.objects.compact();

    const w = await watchCr(ns, { resourceVersion: created.metadata?.resourceVersion ?? "" });
    const error = await w.next((e) => e.type === "ERROR");
    expect(error.object).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "Expired",
      code: 410,
    });
    await w.untilEnded();
    expect(w.events).toHaveLength(1);

    // Watching from the collection resourceVersion of a fresh list works again.
    const list = (await api.custom.listNamespacedCustomObject(ref)) as {
      metadata: { resourceVersion: string };
    };
    const again = await watchCr(ns, { resourceVersion: list.metadata.resourceVersion });
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "c") });
    await again.next((e) => e.type === "ADDED");
    expect(again.summary()).toEqual(["ADDED c"]);
  });

  it("expires history beyond historyLimit on its own", async () => {
    const small = await startKubeStandin({ historyLimit: 3 });
    try {
      const smallApi = clientsFor(small);
      const ref = { group: GROUP, version: VERSION, namespace: "irc-now", plural: PLURAL };
      const first = (await smallApi.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer("h0"),
      })) as SojuBouncer;
      for (let i = 1; i <= 4; i++)
        await smallApi.custom.createNamespacedCustomObject({ ...ref, body: bouncer(`h${i}`) });
      const w = await WatchRecorder.start(smallApi.watch, crPath("irc-now"), {
        resourceVersion: first.metadata?.resourceVersion ?? "",
      });
      expect((await w.next((e) => e.type === "ERROR")).object).toMatchObject({ code: 410 });
      w.stop();
    } finally {
      await small.stop();
    }
  });

  it("turns selector transitions into ADDED and DELETED", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    const w = await watchCr(ns, { labelSelector: "irc.now/owner=u1" });
    await api.custom.createNamespacedCustomObject({
      ...ref,
      body: inNs(ns, "moves", undefined, { labels: { "irc.now/owner": "u2" } }),
    });
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "moves", body: { metadata: { labels: { "irc.now/owner": "u1" } } } },
      mergePatch,
    );
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "moves", body: { spec: { plan: "pro" } } },
      mergePatch,
    );
    const moved = (await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "moves", body: { metadata: { labels: { "irc.now/owner": "u3" } } } },
      mergePatch,
    )) as SojuBouncer;
    const deleted = await w.next((e) => e.type === "DELETED");
    expect(w.summary()).toEqual(["ADDED moves", "MODIFIED moves", "DELETED moves"]);
    // The DELETED event shows the last matching state at the resourceVersion of the change.
    expect(deleted.object.metadata?.labels?.["irc.now/owner"]).toBe("u1");
    expect(deleted.object.metadata?.resourceVersion).toBe(moved.metadata?.resourceVersion);
  });

  it("watches a single object with a metadata.name field selector", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    const w = await watchCr(ns, { fieldSelector: "metadata.name=target" });
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "other") });
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "target") });
    await w.next((e) => e.type === "ADDED");
    await api.custom.deleteNamespacedCustomObject({ ...ref, name: "other" });
    await api.custom.deleteNamespacedCustomObject({ ...ref, name: "target" });
    await w.next((e) => e.type === "DELETED");
    expect(w.summary()).toEqual(["ADDED target", "DELETED target"]);
  });

  it("shows finalizer-driven deletion as MODIFIED (deletionTimestamp) then DELETED", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    await api.custom.createNamespacedCustomObject({
      ...ref,
      body: inNs(ns, "fin", undefined, { finalizers: ["irc.now/cleanup"] }),
    });
    const w = await watchCr(ns);
    await w.next((e) => e.type === "ADDED");
    await api.custom.deleteNamespacedCustomObject({ ...ref, name: "fin" });
    const marked = await w.next((e) => e.type === "MODIFIED");
    expect(marked.object.metadata?.deletionTimestamp).toBeTruthy();
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "fin", body: { metadata: { finalizers: [] } } },
      mergePatch,
    );
    await w.next((e) => e.type === "DELETED");
    expect(w.summary()).toEqual(["ADDED fin", "MODIFIED fin", "DELETED fin"]);
  });

  it("sends BOOKMARK events carrying the current resourceVersion when allowed", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: inNs(ns, "bm"),
    })) as SojuBouncer;
    const w = await watchCr(ns, {
      allowWatchBookmarks: true,
      resourceVersion: created.metadata?.resourceVersion ?? "",
    });
    const bookmark = await w.next((e) => e.type === "BOOKMARK");
    expect(bookmark.object.kind).toBe("SojuBouncer");
    expect(Number(bookmark.object.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(created.metadata?.resourceVersion),
    );

    const plain = await watchCr(ns, { resourceVersion: created.metadata?.resourceVersion ?? "" });
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "bm2") });
    await plain.next((e) => e.type === "ADDED");
    await w.next((e) => e.type === "ADDED");
    expect(plain.events.some((e) => e.type === "BOOKMARK")).toBe(false);
  });

  it("keeps event order when an in-process controller reacts synchronously to an event", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    // Subscribed before the HTTP watch, so it hears of ADDED first and writes inside that commit.
    const stop = kube.objects.watch((e) => {
      if (e.type === "ADDED" && e.object.metadata.namespace === ns) {
        const ready = { status: { conditions: [{ type: "Ready", status: "True" }] } };
        kube.objects.patch(CR, ns, e.object.metadata.name, ready, { subresource: "status" });
      }
    }, CR);
    try {
      const w = await watchCr(ns);
      await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "reactive") });
      await w.next((e) => e.type === "MODIFIED");
      expect(w.summary()).toEqual(["ADDED reactive", "MODIFIED reactive"]);
    } finally {
      stop();
    }
  });

  it("marks the end of initial events with a bookmark when sendInitialEvents is set", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    for (const name of ["i1", "i2"])
      await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, name) });
    const w = await watchCr(ns, {
      sendInitialEvents: true,
      allowWatchBookmarks: true,
      resourceVersionMatch: "NotOlderThan",
    });
    const end = await w.next((e) => e.type === "BOOKMARK");
    expect(end.object.metadata?.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    expect(w.summary().slice(0, 3)).toEqual(["ADDED i1", "ADDED i2", "BOOKMARK"]);
  });

  it("ends the stream after timeoutSeconds", async () => {
    const ns = freshNamespace();
    const w = await watchCr(ns, { timeoutSeconds: 1 });
    await w.untilEnded();
    expect(w.endError).toBeNull();
  });

  it("answers an invalid selector with a plain 400 before streaming", async () => {
    const ns = freshNamespace();
    const w = await watchCr(ns, { labelSelector: "a in (b" });
    await w.untilEnded();
    expect((w.endError as { statusCode?: number }).statusCode).toBe(400);
  });
});

describe("informer", () => {
  it("lists, watches, and relists after 410 Expired", async () => {
    const ns = freshNamespace();
    const ref = { group: GROUP, version: VERSION, namespace: ns, plural: PLURAL };
    await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "one") });
    let lists = 0;
    const listFn = () => {
      lists += 1;
      return api.custom.listNamespacedCustomObject(ref) as never;
    };
    const informer = makeInformer<KubernetesObject>(api.kc, crPath(ns), listFn);
    const added: string[] = [];
    const errors: unknown[] = [];
    informer.on("add", (obj) => added.push(obj.metadata?.name ?? ""));
    informer.on("error", (err) => errors.push(err));
    await informer.start();
    try {
      await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "two") });
      await vi.waitFor(() => expect(added).toEqual(["one", "two"]), { timeout: 10_000 });
      expect(lists).toBe(1);

      // The informer reconnects with its resourceVersion, gets 410, and relists.
      kube.faults.expireNextWatches(1);
      kube.faults.closeWatches();
      await api.custom.createNamespacedCustomObject({ ...ref, body: inNs(ns, "three") });
      await vi.waitFor(
        () =>
          expect(
            informer
              .list(ns)
              .map((o) => o.metadata?.name)
              .sort(),
          ).toEqual(["one", "three", "two"]),
        { timeout: 10_000 },
      );
      await vi.waitFor(() => expect(lists).toBe(2), { timeout: 10_000 });
      expect(kube.objects.get(CR, ns, "three")).toBeDefined();
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
