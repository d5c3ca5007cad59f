/**
 * `metadata.uid` and `metadata.resourceVersion` in a PATCH or PUT body are preconditions. The
 * stand-in answers exactly like a real kube-apiserver. Recorded 2026-11-30 against the real
 * kube-apiserver v1.24.0-alpha.1 of ../shared/peers (kube.sh, etcd 3.4), with curl, on a
 * SojuBouncer `alice` (uid 1b99d4ca-…, resourceVersion 209) and a Secret `s1`:
 *
 * PATCH application/merge-patch+json
 *   {"metadata":{"resourceVersion":"1",…}}                     (uid absent)
 *   {"metadata":{"uid":"<right>","resourceVersion":"1",…}}
 *   {"metadata":{"uid":"0000…","resourceVersion":"1",…}}        (both wrong)
 *     → 409 {"status":"Failure","reason":"Conflict","code":409,
 *            "message":"Operation cannot be fulfilled on sojubouncers.irc.now \"alice\": the object
 *                       has been modified; please apply your changes to the latest version and try again",
 *            "details":{"name":"alice","group":"irc.now","kind":"sojubouncers"}}
 *   {"metadata":{"uid":"0000…",…}}  and  {"metadata":{"uid":"0000…","resourceVersion":"209",…}}
 *     → 422 {"reason":"Invalid","code":422,
 *            "message":"SojuBouncer.irc.now \"alice\" is invalid: metadata.uid: Invalid value:
 *                       \"00000000-0000-0000-0000-000000000000\": field is immutable",
 *            "details":{"name":"alice","group":"irc.now","kind":"SojuBouncer","causes":[
 *              {"reason":"FieldValueInvalid","message":"Invalid value: \"0000…\": field is immutable",
 *               "field":"metadata.uid"}, <the same cause again>]}}
 *     (a JSON patch `add /metadata/uid` gives the same 422; a Secret: `Secret "s1" is invalid: …`,
 *      details without group, kind "Secret")
 *   {"metadata":{"uid":"<right>","resourceVersion":"209",…}} → 200, resourceVersion bumped
 *   {"metadata":{"resourceVersion":"",…}} → 422 `sojubouncers.irc.now "alice" is invalid:
 *      metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`
 *   {"metadata":{"uid":"",…}} → 200 (an empty uid is no precondition)
 *   the object deleted and re-created under the same name, old uid + old resourceVersion → 409
 *      "the object has been modified" (as above)
 *   a missing object → 404 `sojubouncers.irc.now "nobody" not found`
 * PUT application/json
 *   uid wrong (with or without a resourceVersion, right or wrong) → 409 Conflict,
 *     "Operation cannot be fulfilled on secrets \"s1\": StorageError: invalid object, Code: 4,
 *      Key: /registry/secrets/irc-now/s1, ResourceVersion: 0, AdditionalErrorMsg: Precondition
 *      failed: UID in precondition: 0000…, UID in object meta: 8a5fda14-…"
 *     (keys seen: /registry/irc.now/sojubouncers/irc-now/alice, /registry/leases/irc-now/l1,
 *      /registry/namespaces/irc-now)
 *   uid absent, resourceVersion wrong → 409 "the object has been modified; …"
 */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import { apiError, bouncer, clientsFor, CR, GROUP, NS, PLURAL, VERSION } from "./helpers";

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;
const ref = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL };
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const WRONG_UID = "00000000-0000-0000-0000-000000000000";
const MODIFIED =
  'Operation cannot be fulfilled on sojubouncers.irc.now "alice": the object has been modified; please apply your changes to the latest version and try again';

beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
});
afterAll(async () => {
  await kube.stop();
});

function current(name: string) {
  const { uid, resourceVersion } = kube.objects.get(CR, NS, name).metadata;
  return { uid: uid ?? "", resourceVersion: resourceVersion ?? "" };
}

const annotate = (name: string, metadata: Record<string, unknown>, value = "x") =>
  api.custom.patchNamespacedCustomObject(
    { ...ref, name, body: { metadata: { ...metadata, annotations: { a: value } } } },
    mergePatch,
  );

describe("PATCH with metadata.uid / metadata.resourceVersion", () => {
  beforeAll(() => {
    kube.objects.create(CR, bouncer("alice"));
  });

  it("a stale resourceVersion → 409 Conflict 'the object has been modified', whatever the uid", async () => {
    const { uid } = current("alice");
    const before = current("alice").resourceVersion;
    for (const metadata of [
      { resourceVersion: "1" },
      { uid, resourceVersion: "1" },
      { uid: WRONG_UID, resourceVersion: "1" },
    ]) {
      const { code, status } = await apiError(annotate("alice", metadata));
      expect(code).toBe(409);
      expect(status).toEqual({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: MODIFIED,
        reason: "Conflict",
        details: { name: "alice", group: "irc.now", kind: "sojubouncers" },
        code: 409,
      });
    }
    expect(current("alice").resourceVersion).toBe(before);
    expect(kube.objects.get(CR, NS, "alice").metadata.annotations).toBeUndefined();
  });

  it("a wrong uid (resourceVersion right or absent) → 422 Invalid 'field is immutable', the cause twice", async () => {
    const { resourceVersion } = current("alice");
    const cause = {
      reason: "FieldValueInvalid",
      message: `Invalid value: "${WRONG_UID}": field is immutable`,
      field: "metadata.uid",
    };
    const expected = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `SojuBouncer.irc.now "alice" is invalid: metadata.uid: Invalid value: "${WRONG_UID}": field is immutable`,
      reason: "Invalid",
      details: { name: "alice", group: "irc.now", kind: "SojuBouncer", causes: [cause, cause] },
      code: 422,
    };
    for (const metadata of [{ uid: WRONG_UID }, { uid: WRONG_UID, resourceVersion }]) {
      const { code, status } = await apiError(annotate("alice", metadata));
      expect(code).toBe(422);
      expect(status).toEqual(expected);
    }
    const viaJsonPatch = await apiError(
      api.custom.patchNamespacedCustomObject(
        {
          ...ref,
          name: "alice",
          body: [{ op: "add", path: "/metadata/uid", value: WRONG_UID }],
        },
        jsonPatch,
      ),
    );
    expect(viaJsonPatch.status).toEqual(expected);
    expect(current("alice").resourceVersion).toBe(resourceVersion);
  });

  it("both right → applied, with a new resourceVersion; an empty uid is no precondition", async () => {
    const pre = current("alice");
    const patched = (await annotate("alice", pre, "1")) as {
      metadata: { resourceVersion: string; uid: string; annotations: Record<string, string> };
    };
    expect(patched.metadata.annotations).toEqual({ a: "1" });
    expect(patched.metadata.uid).toBe(pre.uid);
    expect(patched.metadata.resourceVersion).not.toBe(pre.resourceVersion);
    // The same precondition again is stale now.
    expect((await apiError(annotate("alice", pre, "2"))).code).toBe(409);

    const unconditioned = (await annotate("alice", { uid: "" }, "3")) as {
      metadata: { uid: string; annotations: Record<string, string> };
    };
    expect(unconditioned.metadata).toMatchObject({ uid: pre.uid, annotations: { a: "3" } });
  });

  it("an empty resourceVersion → 422 'must be specified for an update'", async () => {
    const { code, status } = await apiError(annotate("alice", { resourceVersion: "" }));
    expect(code).toBe(422);
    expect(status.message).toBe(
      'SojuBouncer.irc.now "alice" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
  });

  it("the same name deleted and re-created: the old uid + resourceVersion → 409; a missing object → 404", async () => {
    const old = current("alice");
    kube.objects.delete(CR, NS, "alice");
    kube.objects.create(CR, bouncer("alice"));
    const { code, status } = await apiError(annotate("alice", old));
    expect(code).toBe(409);
    expect(status.message).toBe(MODIFIED);
    expect(kube.objects.get(CR, NS, "alice").metadata.annotations).toBeUndefined();

    const missing = await apiError(annotate("nobody", old));
    expect(missing.code).toBe(404);
    expect(missing.status.message).toBe('sojubouncers.irc.now "nobody" not found');
  });

  it("on a Secret the 422 names the kind without a group", async () => {
    await api.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: "s1" }, stringData: { k: "v" } },
    });
    const { code, status } = await apiError(
      api.core.patchNamespacedSecret(
        { name: "s1", namespace: NS, body: { metadata: { uid: WRONG_UID } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
    expect(code).toBe(422);
    expect(status.message).toBe(
      `Secret "s1" is invalid: metadata.uid: Invalid value: "${WRONG_UID}": field is immutable`,
    );
    expect(status.details).toMatchObject({ name: "s1", kind: "Secret" });
    expect(status.details?.group).toBeUndefined();
    expect(status.details?.causes).toHaveLength(2);
  });
});

describe("PUT with metadata.uid", () => {
  it("a wrong uid → 409 with the storage layer's precondition text naming the etcd key, checked before the resourceVersion", async () => {
    const secret = await api.core.readNamespacedSecret({ name: "s1", namespace: NS });
    const uid = secret.metadata?.uid ?? "";
    for (const resourceVersion of [secret.metadata?.resourceVersion, "3", undefined]) {
      const { code, status } = await apiError(
        api.core.replaceNamespacedSecret({
          name: "s1",
          namespace: NS,
          body: { metadata: { name: "s1", uid: WRONG_UID, resourceVersion }, data: {} },
        }),
      );
      expect(code).toBe(409);
      expect(status).toMatchObject({
        reason: "Conflict",
        message: `Operation cannot be fulfilled on secrets "s1": StorageError: invalid object, Code: 4, Key: /registry/secrets/irc-now/s1, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${WRONG_UID}, UID in object meta: ${uid}`,
        details: { name: "s1", kind: "secrets" },
      });
    }
    const stale = await apiError(
      api.core.replaceNamespacedSecret({
        name: "s1",
        namespace: NS,
        body: { metadata: { name: "s1", resourceVersion: "3" }, data: {} },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status.message).toBe(
      'Operation cannot be fulfilled on secrets "s1": the object has been modified; please apply your changes to the latest version and try again',
    );

    kube.objects.create(CR, bouncer("bob"));
    const cr = await apiError(
      api.custom.replaceNamespacedCustomObject({
        ...ref,
        name: "bob",
        body: { ...bouncer("bob"), metadata: { name: "bob", uid: WRONG_UID } },
      }),
    );
    expect(cr.code).toBe(409);
    expect(cr.status.message).toContain(
      "StorageError: invalid object, Code: 4, Key: /registry/irc.now/sojubouncers/irc-now/bob, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition:",
    );
  });
});
