/** Fault injection, each fault observed through client-node. */
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import {
  apiError,
  bouncer,
  clientsFor,
  crPath,
  GROUP,
  NS,
  PLURAL,
  VERSION,
  WatchRecorder,
} from "./helpers";

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;
const ref = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL };

beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
  kube.objects.create("sojubouncers.irc.now", bouncer("alice"));
});
afterEach(() => kube.faults.reset());
afterAll(async () => {
  await kube.stop();
});

describe("faults", () => {
  it("fails the next N requests with 500 InternalError, then serves again", async () => {
    kube.faults.failNextRequests(2);
    for (let i = 0; i < 2; i++) {
      const { code, status } = await apiError(
        api.custom.getNamespacedCustomObject({ ...ref, name: "alice" }),
      );
      expect(code).toBe(500);
      expect(status).toMatchObject({
        reason: "InternalError",
        message: "Internal error occurred: injected fault",
      });
    }
    await expect(
      api.custom.getNamespacedCustomObject({ ...ref, name: "alice" }),
    ).resolves.toMatchObject({ metadata: { name: "alice" } });
  });

  it("can fail with other codes, e.g. 429 with Retry-After", async () => {
    kube.faults.failNextRequests(1, { code: 429, message: "slow down" });
    const res = await fetch(`${kube.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`, {
      headers: { Authorization: `Bearer ${kube.adminToken}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toMatchObject({ reason: "TooManyRequests", message: "slow down" });
  });

  it("fails watch requests too", async () => {
    kube.faults.failNextRequests(1, { code: 503 });
    const w = await WatchRecorder.start(api.watch, crPath());
    await w.untilEnded();
    expect((w.endError as { statusCode?: number }).statusCode).toBe(503);
  });

  it("answers the next watch with 410 Expired, later ones normally", async () => {
    kube.faults.expireNextWatches(1);
    const expired = await WatchRecorder.start(api.watch, crPath(), {
      resourceVersion: kube.objects.resourceVersion,
    });
    expect((await expired.next((e) => e.type === "ERROR")).object).toMatchObject({
      reason: "Expired",
      code: 410,
    });
    await expired.untilEnded();
    const normal = await WatchRecorder.start(api.watch, crPath());
    await normal.next((e) => e.type === "ADDED" && e.object.metadata?.name === "alice");
    normal.stop();
  });

  it("closes every open watch now", async () => {
    const a = await WatchRecorder.start(api.watch, crPath());
    const b = await WatchRecorder.start(api.watch, `/api/v1/namespaces/${NS}/secrets`);
    await vi.waitFor(() => expect(kube.activeWatches).toBe(2));
    expect(kube.faults.closeWatches()).toBe(2);
    await a.untilEnded();
    await b.untilEnded();
    expect(a.endError).toBeNull();
    expect(kube.activeWatches).toBe(0);
  });

  it("holds requests while hanging and serves them once released", async () => {
    const hang = kube.faults.hangRequests();
    let settled = false;
    const pending = api.custom
      .getNamespacedCustomObject({ ...ref, name: "alice" })
      .finally(() => (settled = true));
    await vi.waitFor(() => expect(kube.faults.heldRequests).toBe(1));
    expect(settled).toBe(false);
    hang.release();
    await expect(pending).resolves.toMatchObject({ metadata: { name: "alice" } });
    expect(kube.faults.heldRequests).toBe(0);
  });

  it("hangs for a duration and then lets requests through by itself", async () => {
    // Long enough for the request to arrive while hanging; nothing releases it but the clock.
    kube.faults.hangRequests(6000);
    const pending = api.custom.getNamespacedCustomObject({ ...ref, name: "alice" });
    await vi.waitFor(() => expect(kube.faults.heldRequests).toBe(1), { timeout: 5500 });
    await expect(pending).resolves.toMatchObject({ metadata: { name: "alice" } });
    expect(kube.faults.heldRequests).toBe(0);
  });

  it("restart drops watches and exec sessions but keeps the data", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    kube.createPod({
      namespace: NS,
      name: "alice-soju-0",
      containers: ["soju"],
      exec: async (req) => {
        started();
        await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
        return 0;
      },
    });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const ws = await api.exec.exec(NS, "alice-soju-0", "soju", ["sleep"], sink, sink, null, false);
    const wsClosed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
    await running;
    const w = await WatchRecorder.start(api.watch, crPath());
    await w.next((e) => e.type === "ADDED");
    const rvBefore = kube.objects.resourceVersion;

    kube.faults.restart();

    await w.untilEnded();
    await wsClosed;
    await vi.waitFor(() => expect(kube.activeExecSessions).toBe(0));
    await vi.waitFor(() => expect(kube.activeWatches).toBe(0));
    const alice = (await api.custom.getNamespacedCustomObject({ ...ref, name: "alice" })) as {
      metadata: { name: string };
    };
    expect(alice.metadata.name).toBe("alice");
    expect(kube.objects.resourceVersion).toBe(rvBefore);
    // Resuming the watch from where it was works after the restart.
    const resumed = await WatchRecorder.start(api.watch, crPath(), { resourceVersion: rvBefore });
    await api.custom.patchNamespacedCustomObject({
      ...ref,
      name: "alice",
      body: [{ op: "add", path: "/metadata/labels", value: { restarted: "yes" } }],
    });
    expect((await resumed.next((e) => e.type === "MODIFIED")).object.metadata?.labels).toEqual({
      restarted: "yes",
    });
    resumed.stop();
  });

  it("reset clears pending failures", async () => {
    kube.faults.failNextRequests(5);
    kube.faults.reset();
    await expect(
      api.custom.getNamespacedCustomObject({ ...ref, name: "alice" }),
    ).resolves.toBeDefined();
  });
});

describe("hang filters and the request log", () => {
  it("hangs only the requests the filter picks", async () => {
    const hang = kube.faults.hangRequests(undefined, {
      match: (r) => r.path.endsWith("/secrets") && r.method === "GET",
    });
    try {
      let settled = false;
      const held = api.core.listNamespacedSecret({ namespace: NS }).finally(() => (settled = true));
      await vi.waitFor(() => expect(kube.faults.heldRequests).toBe(1));
      // Other requests go through meanwhile.
      await expect(
        api.custom.getNamespacedCustomObject({ ...ref, name: "alice" }),
      ).resolves.toMatchObject({ metadata: { name: "alice" } });
      expect(settled).toBe(false);
      hang.release();
      await held;
    } finally {
      hang.release();
    }
  });

  it("reports every request (method and raw URL), upgrades included", async () => {
    const seen: Array<{ method: string; url: string; upgrade: boolean }> = [];
    const off = kube.onRequest((r) => seen.push(r));
    await api.core.listNamespacedSecret({ namespace: NS, labelSelector: "a in (b,c)" });
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    await expect(
      api.exec.exec(NS, "no-such-pod", "soju", ["echo", "hi there"], sink, sink, null, false),
    ).rejects.toBeDefined();
    off();
    await api.core.listNamespacedSecret({ namespace: NS });
    expect(seen).toEqual([
      {
        method: "GET",
        url: `/api/v1/namespaces/${NS}/secrets?labelSelector=a+in+%28b%2Cc%29`,
        upgrade: false,
      },
      {
        method: "GET",
        url: `/api/v1/namespaces/${NS}/pods/no-such-pod/exec?stdout=true&stderr=true&stdin=false&tty=false&command=echo&command=hi%20there&container=soju`,
        upgrade: true,
      },
    ]);
  });
});
