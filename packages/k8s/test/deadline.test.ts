/**
 * Every API call through `createKubeClients` has a deadline (`requestTimeoutMs`); watches made
 * with the same KubeConfig do not. A hung apiserver is the stand-in's `hangRequests`; a server
 * that answers the headers and then stalls is a bare HTTP server.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import {
  BouncerApi,
  createKubeClients,
  describeKubeError,
  isKubeTimeout,
  KubeRequestTimeout,
  type KubeClients,
} from "../src/index";

const NS = "irc-now";
const DEADLINE = 500;
let kube: KubeStandin;
let kc: KubeConfig;
let clients: KubeClients;
let bouncers: BouncerApi;

beforeAll(async () => {
  kube = await startKubeStandin({ namespaces: [NS] });
  kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
  clients = createKubeClients({ kubeConfig: kc, requestTimeoutMs: DEADLINE });
  bouncers = new BouncerApi(clients.objects, NS);
  await bouncers.create({ name: "alice", username: "alice", plan: "free", ownerId: "u-1" });
});
afterAll(async () => {
  kube.faults.reset();
  await kube?.stop();
});

async function timing(call: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await call;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error("expected the call to time out");
}

describe("a deadline on every API call", () => {
  it("a get of a SojuBouncer on a hung apiserver fails with a retryable KubeRequestTimeout within the deadline", async () => {
    const hang = kube.faults.hangRequests();
    try {
      const { error, ms } = await timing(bouncers.get("alice"));
      expect(error).toBeInstanceOf(KubeRequestTimeout);
      expect(isKubeTimeout(error)).toBe(true);
      expect(error).toMatchObject({
        retryable: true,
        method: "GET",
        path: "/apis/irc.now/v1alpha1/namespaces/irc-now/sojubouncers/alice",
        timeoutMs: DEADLINE,
      });
      expect(describeKubeError(error)).toBe(
        `Kubernetes API GET /apis/irc.now/v1alpha1/namespaces/irc-now/sojubouncers/alice timed out: no complete answer within ${DEADLINE} ms`,
      );
      expect(ms).toBeGreaterThanOrEqual(DEADLINE - 50);
      expect(ms).toBeLessThan(DEADLINE + 1500);
    } finally {
      hang.release();
    }
  });

  it("covers the core and coordination clients too, and the next call works once the apiserver answers", async () => {
    const hang = kube.faults.hangRequests();
    try {
      const calls = await Promise.all([
        timing(clients.core.listNamespacedPod({ namespace: NS })),
        timing(clients.core.readNamespacedSecret({ name: "x", namespace: NS })),
        timing(clients.coordination.readNamespacedLease({ name: "l", namespace: NS })),
        timing(bouncers.list()),
      ]);
      for (const { error, ms } of calls) {
        expect(error).toBeInstanceOf(KubeRequestTimeout);
        expect(ms).toBeLessThan(DEADLINE + 1500);
      }
      expect(calls.map((c) => (c.error as KubeRequestTimeout).path)).toEqual([
        "/api/v1/namespaces/irc-now/pods",
        "/api/v1/namespaces/irc-now/secrets/x",
        "/apis/coordination.k8s.io/v1/namespaces/irc-now/leases/l",
        "/apis/irc.now/v1alpha1/namespaces/irc-now/sojubouncers",
      ]);
    } finally {
      hang.release();
    }
    expect((await bouncers.get("alice"))?.metadata.name).toBe("alice");
  });

  it("a server that sends the headers and then stalls the body times out too", async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"kind":"Secret"');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const stalled = new KubeConfig();
      stalled.loadFromOptions({
        clusters: [{ name: "s", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: "s", token: "t" }],
        contexts: [{ name: "s", cluster: "s", user: "s" }],
        currentContext: "s",
      });
      const { core } = createKubeClients({ kubeConfig: stalled, requestTimeoutMs: 300 });
      const { error, ms } = await timing(core.readNamespacedSecret({ name: "x", namespace: NS }));
      expect(error).toBeInstanceOf(KubeRequestTimeout);
      expect(ms).toBeLessThan(2000);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("the default deadline is 15 s, and a nonsense one is refused", () => {
    expect(() => createKubeClients({ kubeConfig: kc, requestTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => createKubeClients({ kubeConfig: kc, requestTimeoutMs: Number.NaN })).toThrow(
      RangeError,
    );
  });
});

describe("watches have no deadline", () => {
  it("a watch opened through the same KubeConfig stays open past the deadline and keeps delivering", async () => {
    const events: string[] = [];
    let ended: unknown = "open";
    const controller = await new Watch(kc).watch(
      `/apis/irc.now/v1alpha1/namespaces/${NS}/sojubouncers`,
      {},
      (type: string, object: { metadata?: { name?: string } }) =>
        events.push(`${type} ${object.metadata?.name ?? ""}`),
      (error: unknown) => (ended = error),
    );
    try {
      await expect.poll(() => events).toContain("ADDED alice");
      // Well past the deadline of the clients made from this KubeConfig, with calls timing out
      // meanwhile on a hung apiserver (watches are let through by the hang's filter).
      const hang = kube.faults.hangRequests(undefined, {
        match: (r) => r.query.get("watch") !== "true",
      });
      const timedOut = await timing(bouncers.get("alice"));
      hang.release();
      expect(timedOut.error).toBeInstanceOf(KubeRequestTimeout);
      await new Promise((r) => setTimeout(r, 3 * DEADLINE));
      expect(ended).toBe("open");
      expect(kube.activeWatches).toBe(1);
      await bouncers.create({ name: "bob", username: "bob", plan: "free", ownerId: "u-2" });
      await expect.poll(() => events).toContain("ADDED bob");
    } finally {
      controller.abort();
    }
  });
});
