import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  BouncerApi,
  createKubeClients,
  findBouncerPods,
  isConfigured,
  isReady,
  isConflict,
  LABEL_OWNER,
  loadSojuBouncerCrd,
  preconditionOf,
  statusCodeOf,
  podSelectorFor,
  readTenantDbUrl,
  tenantDbUrlFromSecret,
  TenantSecretError,
  type KubeClients,
} from "../src/index";

let kube: KubeStandin;
let clients: KubeClients;
let bouncers: BouncerApi;

beforeAll(async () => {
  kube = await startKubeStandin({ namespaces: ["irc-now"] });
  const kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
  clients = createKubeClients({ kubeConfig: kc });
  bouncers = new BouncerApi(clients.objects, "irc-now");
});
afterAll(async () => {
  await kube?.stop();
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("CRD manifest", () => {
  it("declares the contract of DESIGN.md", () => {
    const crd = loadSojuBouncerCrd();
    expect(crd.metadata.name).toBe("sojubouncers.irc.now");
    expect(crd.spec).toMatchObject({
      group: "irc.now",
      scope: "Namespaced",
      names: { plural: "sojubouncers", kind: "SojuBouncer" },
    });
    const v = crd.spec.versions[0]!;
    expect(v).toMatchObject({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
    });
    const spec = v.schema!.openAPIV3Schema.properties!.spec!;
    expect(spec.required).toContain("username");
    expect(spec.properties!.plan!.enum).toEqual(["free", "pro"]);
  });
});

describe("BouncerApi", () => {
  it("creates, reads, lists by owner, annotates and deletes", async () => {
    const created = await bouncers.create({
      name: "alice",
      username: "alice",
      plan: "free",
      ownerId: "u-1",
    });
    expect(created.metadata.labels?.[LABEL_OWNER]).toBe("u-1");
    await bouncers.create({ name: "bob", username: "bob", plan: "pro", ownerId: "u-2" });
    expect((await bouncers.listByOwner("u-1")).items.map((b) => b.metadata.name)).toEqual([
      "alice",
    ]);
    expect((await bouncers.list()).items).toHaveLength(2);
    expect(await bouncers.get("nobody")).toBeNull();

    const fetched = await bouncers.get("alice");
    expect(isReady(fetched!)).toBe(false);
    expect(isConfigured(fetched!)).toBe(false);

    kube.objects.patch(
      "sojubouncers.irc.now",
      "irc-now",
      "alice",
      {
        status: {
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "Running",
              message: "",
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
      { subresource: "status" },
    );
    const marked = await bouncers.markConfigured(
      "alice",
      preconditionOf((await bouncers.get("alice"))!),
    );
    expect(isConfigured(marked)).toBe(true);
    expect(isReady(marked)).toBe(true);
    // Merge patch keeps other annotations and labels.
    await bouncers.patchAnnotations("alice", { "example.org/note": "kept" });
    const cleared = await bouncers.clearConfigured("alice");
    expect(cleared.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    expect(cleared.metadata.annotations?.["example.org/note"]).toBe("kept");
    expect(cleared.metadata.labels?.[LABEL_OWNER]).toBe("u-1");

    expect(await bouncers.delete("alice")).toBe(true);
    expect(await bouncers.delete("alice")).toBe(false);
  });

  it("markConfigured patches only the object the caller read (uid + resourceVersion preconditions)", async () => {
    // Replies of the real kube-apiserver 1.24 (../shared/peers, 2026-11-30) to these merge patches,
    // which the stand-in reproduces (tooling/standins/test/kube/preconditions.test.ts):
    //   stale resourceVersion → 409 Conflict "Operation cannot be fulfilled on sojubouncers.irc.now
    //     \"carol\": the object has been modified; please apply your changes to the latest version
    //     and try again" (also after a delete + re-create under the same name);
    //   right resourceVersion, wrong uid → 422 Invalid "… metadata.uid: Invalid value: …: field
    //     is immutable";
    //   both right → 200; the object gone → 404.
    await bouncers.create({ name: "carol", username: "carol", plan: "free", ownerId: "u-3" });
    const read = (await bouncers.get("carol"))!;
    const pre = preconditionOf(read);
    // The operator writes status after the worker read the object: the read is stale now.
    kube.objects.patch(
      "sojubouncers.irc.now",
      "irc-now",
      "carol",
      {
        status: { conditions: [{ type: "Ready", status: "True", reason: "Running", message: "" }] },
      },
      { subresource: "status" },
    );
    const stale = await bouncers.markConfigured("carol", pre).catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);
    expect(isConfigured((await bouncers.get("carol"))!)).toBe(false);

    const fresh = (await bouncers.get("carol"))!;
    const wrongUid = await bouncers
      .markConfigured("carol", {
        ...preconditionOf(fresh),
        uid: "00000000-0000-0000-0000-000000000000",
      })
      .catch((e: unknown) => e);
    expect(statusCodeOf(wrongUid)).toBe(422);
    expect(isConfigured((await bouncers.get("carol"))!)).toBe(false);

    const marked = await bouncers.markConfigured("carol", preconditionOf(fresh));
    expect(isConfigured(marked)).toBe(true);
    expect(marked.metadata.resourceVersion).not.toBe(fresh.metadata.resourceVersion);

    // Deleted and re-created under the same name: the old read does not annotate the new one.
    const old = preconditionOf(marked);
    await bouncers.delete("carol");
    await bouncers.create({ name: "carol", username: "carol", plan: "free", ownerId: "u-4" });
    expect(isConflict(await bouncers.markConfigured("carol", old).catch((e: unknown) => e))).toBe(
      true,
    );
    expect(isConfigured((await bouncers.get("carol"))!)).toBe(false);
    await bouncers.delete("carol");
    expect(statusCodeOf(await bouncers.markConfigured("carol", old).catch((e: unknown) => e))).toBe(
      404,
    );
    await expect(
      bouncers.markConfigured("carol", { uid: "", resourceVersion: "" }),
    ).rejects.toThrow(/uid and resourceVersion/);
  });

  it("surfaces the apiserver's validation of a bad spec", async () => {
    await expect(
      bouncers.create({ name: "Bad_Name", username: "x", plan: "free", ownerId: "u" }),
    ).rejects.toMatchObject({ code: 422 });
  });
});

describe("tenant DB secret", () => {
  it("prefers uri, falls back to the fields, and names missing keys without values", async () => {
    await clients.core.createNamespacedSecret({
      namespace: "irc-now",
      body: {
        metadata: { name: "alice-db" },
        data: { uri: b64("postgresql://app:s3cret@db.example:5432/alice"), host: b64("ignored") },
      },
    });
    expect(await readTenantDbUrl(clients.core, "irc-now", "alice")).toBe(
      "postgresql://app:s3cret@db.example:5432/alice",
    );

    const composed = tenantDbUrlFromSecret({
      metadata: { name: "bob-db" },
      data: {
        host: b64("db"),
        port: b64("5432"),
        dbname: b64("bob"),
        user: b64("app"),
        password: b64("p@ss word"),
      },
    });
    expect(composed).toBe("postgresql://app:p%40ss%20word@db:5432/bob");

    let error: unknown;
    try {
      tenantDbUrlFromSecret({
        metadata: { name: "carol-db" },
        data: { host: b64("db"), password: b64("topsecret") },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantSecretError);
    expect((error as Error).message).toBe(
      'secret carol-db: no "uri" key and missing "port", "dbname", "user"',
    );
    expect((error as Error).message).not.toContain("topsecret");
  });
});

describe("bouncer pods", () => {
  it("finds pods by SOJU_POD_SELECTOR, running first", async () => {
    expect(podSelectorFor("irc.now/bouncer={name}", "alice")).toBe("irc.now/bouncer=alice");
    kube.createPod({
      namespace: "irc-now",
      name: "alice-old",
      labels: { "irc.now/bouncer": "alice" },
      containers: ["soju"],
      phase: "Pending",
    });
    kube.createPod({
      namespace: "irc-now",
      name: "alice-soju",
      labels: { "irc.now/bouncer": "alice" },
      containers: ["soju"],
    });
    kube.createPod({
      namespace: "irc-now",
      name: "bob-soju",
      labels: { "irc.now/bouncer": "bob" },
      containers: ["soju"],
    });
    const pods = await findBouncerPods(clients.core, "irc-now", "irc.now/bouncer={name}", "alice");
    expect(pods.map((p) => p.metadata?.name)).toEqual(["alice-soju", "alice-old"]);
  });
});

describe("keep-alive agents", () => {
  it("reuses one agent per server across API calls, and patches a config only once", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(kube.kubeConfigYaml());
    const seen = new Set<unknown>();
    const raw = kc as unknown as {
      createAgent: (c: unknown, o: Record<string, unknown>) => unknown;
    };
    const original = raw.createAgent.bind(kc);
    raw.createAgent = (c, o) => {
      const agent = original(c, o);
      seen.add(agent);
      return agent;
    };
    const api = new BouncerApi(createKubeClients({ kubeConfig: kc }).objects, "irc-now");
    createKubeClients({ kubeConfig: kc }); // a second wrap must not stack another cache
    for (let i = 0; i < 5; i++) await api.list();
    const agents = new Set<unknown>();
    const patched = kc as unknown as {
      createAgent: (
        c: unknown,
        o: Record<string, unknown>,
      ) => { options?: { keepAlive?: boolean } };
    };
    for (let i = 0; i < 3; i++) agents.add(patched.createAgent(kc.getCurrentCluster(), {}));
    expect(agents.size).toBe(1);
    expect([...agents][0]).toMatchObject({ keepAlive: true });
    expect(seen.size).toBeLessThanOrEqual(2); // the lists' agent (+ the probe's, options differ)
  });
});
