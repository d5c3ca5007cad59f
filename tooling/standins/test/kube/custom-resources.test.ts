/**
 * SojuBouncer CRUD through @kubernetes/client-node against the stand-in: the behaviour a
 * real apiserver shows for a custom resource with a status subresource.
 */
import {
  PatchStrategy,
  setHeaderOptions,
  type KubernetesListObject,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import {
  apiError,
  bouncer,
  clientsFor,
  CR,
  GROUP,
  NS,
  PLURAL,
  specOf,
  VERSION,
  type SojuBouncer,
} from "./helpers";

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;
const ref = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL };
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
});
afterAll(async () => {
  await kube.stop();
});

describe("create and read", () => {
  it("creates through KubernetesObjectApi (after discovery) and fills the server-side metadata", async () => {
    const created = (await api.objects.create(bouncer("alice"))) as SojuBouncer;
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.generation).toBe(1);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.spec).toEqual({ username: "alice", plan: "free" });

    const read = (await api.objects.read({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "SojuBouncer",
      metadata: { name: "alice", namespace: NS },
    })) as SojuBouncer;
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it("answers a second create of the same name with 409 AlreadyExists", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("dup") });
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("dup") }),
    );
    expect(code).toBe(409);
    expect(status).toMatchObject({
      kind: "Status",
      status: "Failure",
      reason: "AlreadyExists",
      message: 'sojubouncers.irc.now "dup" already exists',
      details: { name: "dup", group: GROUP, kind: PLURAL },
    });
  });

  it("answers a missing object with 404 NotFound", async () => {
    const { code, status } = await apiError(
      api.custom.getNamespacedCustomObject({ ...ref, name: "nobody" }),
    );
    expect(code).toBe(404);
    expect(status).toMatchObject({
      reason: "NotFound",
      message: 'sojubouncers.irc.now "nobody" not found',
      details: { name: "nobody", group: GROUP, kind: PLURAL },
    });
  });

  it("generates a name from generateName", async () => {
    const body = bouncer("unused", { username: "gen" });
    body.metadata = { namespace: NS, generateName: "gen-" };
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body,
    })) as SojuBouncer;
    expect(created.metadata?.name).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it("drops status sent on create: status belongs to the status subresource", async () => {
    const body = {
      ...bouncer("status-on-create"),
      status: { conditions: [{ type: "Ready", status: "True" }] },
    };
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body,
    })) as SojuBouncer;
    expect(created.status).toBeUndefined();
  });

  it("applies the schema default for spec.plan", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("defaulted", { username: "defaulted" }),
    })) as SojuBouncer;
    expect(created.spec?.plan).toBe("free");
  });

  it("creates in a namespace that does not exist: 404 for the namespace", async () => {
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({
        ...ref,
        namespace: "nowhere",
        body: { ...bouncer("x"), metadata: { name: "x", namespace: "nowhere" } },
      }),
    );
    expect(code).toBe(404);
    expect(status).toMatchObject({ reason: "NotFound", message: 'namespaces "nowhere" not found' });
  });
});

describe("validation (422 Invalid)", () => {
  it("rejects a spec that fails the CRD's OpenAPI schema, listing every cause", async () => {
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer("bad-spec", { plan: "gold" }),
      }),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe("Invalid");
    expect(status.details).toMatchObject({ name: "bad-spec", group: GROUP, kind: "SojuBouncer" });
    expect(status.details?.causes).toEqual(
      expect.arrayContaining([
        {
          reason: "FieldValueNotSupported",
          message: 'Unsupported value: "gold": supported values: "free", "pro"',
          field: "spec.plan",
        },
        { reason: "FieldValueRequired", message: "Required value", field: "spec.username" },
      ]),
    );
    expect(status.message).toMatch(/^SojuBouncer\.irc\.now "bad-spec" is invalid: \[/);
  });

  it("rejects a username that does not match the schema pattern", async () => {
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer("bad-user", { username: "has space" }),
      }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({
      field: "spec.username",
      reason: "FieldValueInvalid",
    });
  });

  it("rejects a name that is not a DNS-1123 subdomain", async () => {
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("Bad_Name") }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({
      field: "metadata.name",
      reason: "FieldValueInvalid",
    });
    expect(status.message).toContain(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters",
    );
  });

  it("rejects invalid label values", async () => {
    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer("bad-label", undefined, { labels: { "irc.now/owner": "not valid!" } }),
      }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({ field: "metadata.labels" });
  });

  it("prunes unknown fields, or refuses them with fieldValidation=Strict", async () => {
    const withExtra = bouncer("pruned", { username: "pruned", plan: "pro", extra: "dropped" });
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: withExtra,
    })) as SojuBouncer;
    expect(created.spec).toEqual({ username: "pruned", plan: "pro" });

    const { code, status } = await apiError(
      api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer("strict", { username: "s", extra: 1 }),
        fieldValidation: "Strict",
      }),
    );
    expect(code).toBe(400);
    expect(status.message).toBe('strict decoding error: unknown field "spec.extra"');
  });
});

describe("list", () => {
  beforeAll(async () => {
    for (const [name, owner] of [
      ["list-a", "u1"],
      ["list-b", "u2"],
      ["list-c", "u1"],
    ] as const) {
      await api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer(
          name,
          { username: name, plan: "free" },
          { labels: { "irc.now/owner": owner, "test-group": "list" } },
        ),
      });
    }
  });

  it("returns the collection resourceVersion and filters by label selector", async () => {
    const list = (await api.custom.listNamespacedCustomObject({
      ...ref,
      labelSelector: "irc.now/owner=u1",
    })) as KubernetesListObject<SojuBouncer>;
    expect(list.kind).toBe("SojuBouncerList");
    expect(list.metadata?.resourceVersion).toBe(kube.objects.resourceVersion);
    expect(list.items.map((i) => i.metadata?.name)).toEqual(["list-a", "list-c"]);
    const notIn = (await api.custom.listNamespacedCustomObject({
      ...ref,
      labelSelector: "test-group=list,irc.now/owner notin (u1)",
    })) as KubernetesListObject<SojuBouncer>;
    expect(notIn.items.map((i) => i.metadata?.name)).toEqual(["list-b"]);
  });

  it("filters by field selector and refuses unsupported fields with 400", async () => {
    const list = (await api.custom.listNamespacedCustomObject({
      ...ref,
      fieldSelector: "metadata.name=list-b",
    })) as KubernetesListObject<SojuBouncer>;
    expect(list.items.map((i) => i.metadata?.name)).toEqual(["list-b"]);
    const { code, status } = await apiError(
      api.custom.listNamespacedCustomObject({ ...ref, fieldSelector: "spec.plan=free" }),
    );
    expect(code).toBe(400);
    expect(status.message).toBe("field label not supported: spec.plan");
  });

  it("pages with limit/continue over a consistent snapshot", async () => {
    // CustomObjectsApi hands back the raw JSON: metadata.continue, not client-node's _continue.
    type RawList = {
      items: SojuBouncer[];
      metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
    };
    const first = (await api.custom.listNamespacedCustomObject({
      ...ref,
      labelSelector: "test-group=list",
      limit: 2,
    })) as RawList;
    expect(first.items.map((i) => i.metadata?.name)).toEqual(["list-a", "list-b"]);
    expect(first.metadata.continue).toBeTruthy();
    // A change after the first page does not show up in the rest of this list.
    await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("list-d", undefined, { labels: { "test-group": "list" } }),
    });
    const second = (await api.custom.listNamespacedCustomObject({
      ...ref,
      labelSelector: "test-group=list",
      limit: 2,
      _continue: first.metadata.continue ?? "",
    })) as RawList;
    expect(second.items.map((i) => i.metadata?.name)).toEqual(["list-c"]);
    expect(second.metadata.continue).toBeUndefined();
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
  });

  it("lists an exact past resourceVersion from history, and 410 once compacted", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("exact"),
    })) as SojuBouncer;
    const rv = created.metadata?.resourceVersion ?? "";
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "exact", body: { spec: { plan: "pro" } } },
      mergePatch,
    );
    const past = (await api.custom.listNamespacedCustomObject({
      ...ref,
      fieldSelector: "metadata.name=exact",
      resourceVersion: rv,
      resourceVersionMatch: "Exact",
    })) as {
      items: SojuBouncer[];
      metadata: { resourceVersion: string };
    };
    expect(past.metadata.resourceVersion).toBe(rv);
    expect(past.items.map((i) => i.spec?.plan)).toEqual(["free"]);
    kube.objects.compact();
    const { code, status } = await apiError(
      api.custom.listNamespacedCustomObject({
        ...ref,
        resourceVersion: rv,
        resourceVersionMatch: "Exact",
      }),
    );
    expect(code).toBe(410);
    expect(status.reason).toBe("Expired");
  });

  it("lists across namespaces through KubernetesObjectApi", async () => {
    const list = await api.objects.list(
      `${GROUP}/${VERSION}`,
      "SojuBouncer",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      "test-group=list",
    );
    expect(list.items.map((i) => i.metadata?.name)).toEqual([
      "list-a",
      "list-b",
      "list-c",
      "list-d",
    ]);
  });
});

describe("update, optimistic concurrency and no-op writes", () => {
  it("rejects an update with a stale resourceVersion with 409 Conflict", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("occ"),
    })) as SojuBouncer;
    const first = { ...created, spec: { ...created.spec, plan: "pro" } };
    const updated = (await api.custom.replaceNamespacedCustomObject({
      ...ref,
      name: "occ",
      body: first,
    })) as SojuBouncer;
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(created.metadata?.resourceVersion),
    );
    expect(updated.metadata?.generation).toBe(2);

    const stale = { ...created, spec: { ...created.spec, username: "someone-else" } };
    const { code, status } = await apiError(
      api.custom.replaceNamespacedCustomObject({ ...ref, name: "occ", body: stale }),
    );
    expect(code).toBe(409);
    expect(status).toMatchObject({
      reason: "Conflict",
      message:
        'Operation cannot be fulfilled on sojubouncers.irc.now "occ": the object has been modified; please apply your changes to the latest version and try again',
    });
    expect(kube.objects.get(CR, NS, "occ").spec).toEqual({ username: "occ", plan: "pro" });
  });

  it("requires a resourceVersion on PUT of a custom resource (422)", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("unconditional") });
    const { code, status } = await apiError(
      api.custom.replaceNamespacedCustomObject({
        ...ref,
        name: "unconditional",
        body: bouncer("unconditional", { username: "x" }),
      }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({ field: "metadata.resourceVersion" });
  });

  it("writes nothing for an update that changes nothing: same resourceVersion", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("noop"),
    })) as SojuBouncer;
    const again = (await api.custom.replaceNamespacedCustomObject({
      ...ref,
      name: "noop",
      body: created,
    })) as SojuBouncer;
    expect(again.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it("keeps metadata-only changes from bumping generation", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("gen") });
    const patched = (await api.custom.patchNamespacedCustomObject(
      {
        ...ref,
        name: "gen",
        body: { metadata: { annotations: { "irc.now/upstream-configured": "true" } } },
      },
      mergePatch,
    )) as SojuBouncer;
    expect(patched.metadata?.annotations).toEqual({ "irc.now/upstream-configured": "true" });
    expect(patched.metadata?.generation).toBe(1);
  });
});

describe("patch", () => {
  it("applies a merge patch (annotation add, then removal with null)", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("merge") });
    const added = (await api.custom.patchNamespacedCustomObject(
      {
        ...ref,
        name: "merge",
        body: {
          metadata: { annotations: { "irc.now/upstream-configured": "true" } },
          spec: { plan: "pro" },
        },
      },
      mergePatch,
    )) as SojuBouncer;
    expect(added.metadata?.annotations?.["irc.now/upstream-configured"]).toBe("true");
    expect(added.spec).toEqual({ username: "merge", plan: "pro" });
    const removed = (await api.custom.patchNamespacedCustomObject(
      {
        ...ref,
        name: "merge",
        body: { metadata: { annotations: { "irc.now/upstream-configured": null } } },
      },
      mergePatch,
    )) as SojuBouncer;
    expect(removed.metadata?.annotations ?? {}).toEqual({});
  });

  it("applies a JSON patch (the CustomObjectsApi default) and reports a failed test op as 422", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("jsonpatch") });
    const patched = (await api.custom.patchNamespacedCustomObject({
      ...ref,
      name: "jsonpatch",
      body: [{ op: "replace", path: "/spec/plan", value: "pro" }],
    })) as SojuBouncer;
    expect(patched.spec?.plan).toBe("pro");
    const { code, status } = await apiError(
      api.custom.patchNamespacedCustomObject({
        ...ref,
        name: "jsonpatch",
        body: [
          { op: "test", path: "/spec/plan", value: "free" },
          { op: "replace", path: "/spec/plan", value: "free" },
        ],
      }),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe("Invalid");
    expect(specOf(kube.objects.get(CR, NS, "jsonpatch")).plan).toBe("pro");
  });

  it("honours a resourceVersion inside a patch as a precondition", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("patch-rv"),
    })) as SojuBouncer;
    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "patch-rv", body: { spec: { plan: "pro" } } },
      mergePatch,
    );
    const { code } = await apiError(
      api.custom.patchNamespacedCustomObject(
        {
          ...ref,
          name: "patch-rv",
          body: {
            metadata: { resourceVersion: created.metadata?.resourceVersion },
            spec: { plan: "free" },
          },
        },
        mergePatch,
      ),
    );
    expect(code).toBe(409);
  });

  it("refuses a strategic merge patch on a custom resource with 415, as a real apiserver does", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("smp") });
    const { code, status } = await apiError(api.objects.patch(bouncer("smp", { plan: "pro" })));
    expect(code).toBe(415);
    expect(status.reason).toBe("UnsupportedMediaType");
  });

  it("validates the patched object (422) and leaves the stored one unchanged", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("patch-invalid") });
    const { code } = await apiError(
      api.custom.patchNamespacedCustomObject(
        { ...ref, name: "patch-invalid", body: { spec: { plan: "platinum" } } },
        mergePatch,
      ),
    );
    expect(code).toBe(422);
    expect(specOf(kube.objects.get(CR, NS, "patch-invalid")).plan).toBe("free");
  });
});

describe("status subresource", () => {
  const ready = {
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Provisioned",
        message: "soju runs",
        lastTransitionTime: "2024-05-01T12:00:00Z",
      },
    ],
  };

  it("ignores status written through the main resource", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("st-main"),
    })) as SojuBouncer;
    const viaMain = (await api.custom.replaceNamespacedCustomObject({
      ...ref,
      name: "st-main",
      body: { ...created, status: ready },
    })) as SojuBouncer;
    expect(viaMain.status).toBeUndefined();
    expect(viaMain.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    const patched = (await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "st-main", body: { status: ready, spec: { plan: "pro" } } },
      mergePatch,
    )) as SojuBouncer;
    expect(patched.status).toBeUndefined();
    expect(patched.spec?.plan).toBe("pro");
  });

  it("ignores spec (and metadata) written through /status", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("st-sub"),
    })) as SojuBouncer;
    const body = {
      ...created,
      spec: { username: "changed", plan: "pro" },
      metadata: { ...created.metadata, labels: { sneaky: "yes" } },
      status: ready,
    };
    const updated = (await api.custom.replaceNamespacedCustomObjectStatus({
      ...ref,
      name: "st-sub",
      body,
    })) as SojuBouncer;
    expect(updated.status).toEqual(ready);
    expect(updated.spec).toEqual({ username: "st-sub", plan: "free" });
    expect(updated.metadata?.labels).toBeUndefined();
    expect(updated.metadata?.generation).toBe(1);

    const patched = (await api.custom.patchNamespacedCustomObjectStatus(
      {
        ...ref,
        name: "st-sub",
        body: {
          spec: { plan: "pro" },
          status: { conditions: [{ ...ready.conditions[0], status: "False" }] },
        },
      },
      mergePatch,
    )) as SojuBouncer;
    expect(patched.status?.conditions?.[0]?.status).toBe("False");
    expect(patched.spec?.plan).toBe("free");
  });

  it("validates status against the schema and applies optimistic concurrency on /status", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("st-valid"),
    })) as SojuBouncer;
    const invalid = await apiError(
      api.custom.replaceNamespacedCustomObjectStatus({
        ...ref,
        name: "st-valid",
        body: {
          ...created,
          status: {
            conditions: [{ type: "Ready", status: "Maybe", lastTransitionTime: "yesterday" }],
          },
        },
      }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.status.details?.causes?.map((c) => c.field).sort()).toEqual([
      "status.conditions[0].lastTransitionTime",
      "status.conditions[0].status",
    ]);

    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "st-valid", body: { spec: { plan: "pro" } } },
      mergePatch,
    );
    const stale = await apiError(
      api.custom.replaceNamespacedCustomObjectStatus({
        ...ref,
        name: "st-valid",
        body: { ...created, status: ready },
      }),
    );
    expect(stale.code).toBe(409);
  });

  it("keeps operator-owned status fields the schema does not list", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("st-extra") });
    const patched = (await api.custom.patchNamespacedCustomObjectStatus(
      {
        ...ref,
        name: "st-extra",
        body: { status: { ...ready, observedGeneration: 1, endpoint: "soju.example:6697" } },
      },
      mergePatch,
    )) as SojuBouncer;
    expect(patched.status?.endpoint).toBe("soju.example:6697");
  });
});

describe("delete", () => {
  it("deletes at once without finalizers and answers with a Success Status", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("del"),
    })) as SojuBouncer;
    const result = (await api.custom.deleteNamespacedCustomObject({
      ...ref,
      name: "del",
    })) as Record<string, unknown>;
    expect(result).toMatchObject({
      kind: "Status",
      status: "Success",
      details: { name: "del", group: GROUP, kind: PLURAL, uid: created.metadata?.uid },
    });
    expect(kube.objects.find(CR, NS, "del")).toBeUndefined();
  });

  it("with finalizers: sets deletionTimestamp, refuses new finalizers, deletes when the last one is removed", async () => {
    await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("fin", undefined, { finalizers: ["irc.now/cleanup"] }),
    });
    const marked = (await api.custom.deleteNamespacedCustomObject({
      ...ref,
      name: "fin",
    })) as SojuBouncer;
    expect(marked.metadata?.deletionTimestamp).toBeTruthy();
    const stored = kube.objects.get(CR, NS, "fin");
    expect(stored.metadata.deletionTimestamp).toBeTruthy();
    expect(stored.metadata.deletionGracePeriodSeconds).toBe(0);

    const addFinalizer = await apiError(
      api.custom.patchNamespacedCustomObject(
        {
          ...ref,
          name: "fin",
          body: { metadata: { finalizers: ["irc.now/cleanup", "irc.now/other"] } },
        },
        mergePatch,
      ),
    );
    expect(addFinalizer.code).toBe(422);

    await api.custom.patchNamespacedCustomObject(
      { ...ref, name: "fin", body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    expect(kube.objects.find(CR, NS, "fin")).toBeUndefined();
  });

  it("checks delete preconditions (409)", async () => {
    await api.custom.createNamespacedCustomObject({ ...ref, body: bouncer("del-pre") });
    const { code, status } = await apiError(
      api.custom.deleteNamespacedCustomObject({
        ...ref,
        name: "del-pre",
        body: { preconditions: { uid: "00000000-0000-0000-0000-000000000000" } },
      }),
    );
    expect(code).toBe(409);
    expect(status.message).toContain("Precondition failed: UID in precondition");
    expect(kube.objects.find(CR, NS, "del-pre")).toBeDefined();
  });

  it("garbage-collects dependents (ownerReferences) of a deleted bouncer", async () => {
    const owner = kube.objects.create(CR, bouncer("owner"));
    const ownerRef = {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name,
      uid: owner.metadata.uid,
      controller: true,
    };
    await api.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "owner-db", ownerReferences: [ownerRef] },
        stringData: { uri: "postgresql://x" },
      },
    });
    await api.custom.deleteNamespacedCustomObject({ ...ref, name: "owner" });
    const { code } = await new Promise<{ code: number }>((resolve) => {
      const poll = (): void => {
        api.core.readNamespacedSecret({ namespace: NS, name: "owner-db" }).then(
          () => setTimeout(poll, 10),
          (err: { code: number }) => resolve(err),
        );
      };
      poll();
    });
    expect(code).toBe(404);
  });
});

describe("delete collection", () => {
  it("deletes what a label selector matches and nothing else", async () => {
    for (const name of ["dc-a", "dc-b"])
      await api.custom.createNamespacedCustomObject({
        ...ref,
        body: bouncer(name, undefined, { labels: { batch: "dc" } }),
      });
    await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("dc-keep", undefined, { labels: { batch: "other" } }),
    });
    await api.custom.deleteCollectionNamespacedCustomObject({ ...ref, labelSelector: "batch=dc" });
    expect(
      kube.objects.list(CR, NS, { labelSelector: "batch" }).items.map((i) => i.metadata.name),
    ).toEqual(["dc-keep"]);
  });
});

describe("dry run", () => {
  it("runs create with dryRun=All without storing anything", async () => {
    const created = (await api.custom.createNamespacedCustomObject({
      ...ref,
      body: bouncer("dry"),
      dryRun: "All",
    })) as SojuBouncer;
    expect(created.metadata?.uid).toBeTruthy();
    expect(kube.objects.find(CR, NS, "dry")).toBeUndefined();
  });
});
