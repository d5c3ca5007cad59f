/**
 * The apiserver's generic registry: create, get, list, update, patch and delete with the
 * semantics clients depend on — generateName, uid, creationTimestamp, generation,
 * optimistic concurrency, no-op updates that write nothing, the status subresource,
 * finalizers and deletionTimestamp, owner-reference garbage collection, NamespaceLifecycle,
 * consistent paging. HTTP and the in-process API both call it; it throws StatusErrors.
 */
import { randomUUID } from "node:crypto";
import {
  deepClone,
  generateName,
  isRecord,
  jsonEqual,
  nowTimestamp,
  quote,
  validateObjectMeta,
  type KubeObject,
  type StoredObject,
} from "./objects";
import { applyPatch, type PatchType } from "./patch";
import {
  BUILTIN_RESOURCES,
  etcdKey,
  hasStatus,
  namespaces,
  resourceKey,
  type ResourceType,
} from "./resources";
import { parseFieldSelector, parseLabelSelector } from "./selectors";
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  OBJECT_MODIFIED,
  StatusError,
  successStatus,
  timeout,
  type FieldError,
  type Status,
} from "./status";
import { keyOf, objectKey, type ObjectStore } from "./store";

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: StoredObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  /** `dryRun=All`: everything but the write. */
  dryRun?: boolean;
  /** What to do with fields the schema does not know (custom resources): default Warn. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  /** Collects `Warning` header texts. */
  warnings?: string[];
}

export interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: "Orphan" | "Background" | "Foreground";
  gracePeriodSeconds?: number;
}

export type DeleteResult =
  { object: StoredObject; status?: undefined } | { status: Status; object?: undefined };

export type Subresource = "status" | undefined;

const MAX_GENERATE_NAME_ATTEMPTS = 8;

interface ContinueToken {
  v: "meta.k8s.io/v1";
  rv: number;
  start: string;
}

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  constructor(
    readonly store: ObjectStore,
    types: readonly ResourceType[] = BUILTIN_RESOURCES,
  ) {
    for (const rt of types) this.types.set(resourceKey(rt), rt);
  }

  get resourceTypes(): ResourceType[] {
    return [...this.types.values()];
  }

  /** The resource served at `/apis/{group}/{version}/{resource}` (group "" for /api). */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const rt = this.types.get(group === "" ? resource : `${resource}.${group}`);
    return rt !== undefined && rt.version === version ? rt : undefined;
  }

  /** A resource by key (`sojubouncers.irc.now`, `pods`, `leases.coordination.k8s.io`). */
  resolve(key: string): ResourceType {
    const rt = this.types.get(key);
    if (rt === undefined)
      throw new Error(`unknown resource ${key}; served: ${[...this.types.keys()].join(", ")}`);
    return rt;
  }

  /** Field-selector attributes of an object. */
  fieldsOf(rt: ResourceType, obj: StoredObject): Record<string, string> {
    const fields: Record<string, string> = {
      "metadata.name": obj.metadata.name,
      "metadata.namespace": obj.metadata.namespace ?? "",
    };
    for (const [field, get] of Object.entries(rt.fields)) {
      const value = get(obj);
      if (value !== undefined) fields[field] = value;
    }
    return fields;
  }

  /** A predicate for namespace + selectors (400 on a bad selector or unsupported field). */
  matcher(
    rt: ResourceType,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): (obj: StoredObject) => boolean {
    const labels = parseLabelSelector(labelSelector);
    const fields = parseFieldSelector(fieldSelector, [
      "metadata.name",
      "metadata.namespace",
      ...Object.keys(rt.fields),
    ]);
    return (obj) =>
      (namespace === undefined || obj.metadata.namespace === namespace) &&
      labels(obj.metadata.labels) &&
      fields.matches(this.fieldsOf(rt, obj));
  }

  namespaceExists(name: string): boolean {
    return this.store.has(resourceKey(namespaces), name);
  }

  // -------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------

  get(rt: ResourceType, namespace: string | undefined, name: string): StoredObject {
    const obj = this.store.get(
      resourceKey(rt),
      objectKey(rt.namespaced ? namespace : undefined, name),
    );
    if (obj === undefined) throw notFound(rt, name);
    return obj;
  }

  list(rt: ResourceType, namespace: string | undefined, options: ListOptions = {}): ListResult {
    const match = this.matcher(rt, namespace, options.labelSelector, options.fieldSelector);
    const current = this.store.currentRevision;
    let revision = current;
    let start = "";
    if (options.continue !== undefined && options.continue !== "") {
      if (options.resourceVersion !== undefined && options.resourceVersion !== "") {
        throw badRequest("specifying resource version is not allowed when using continue");
      }
      const token = decodeContinue(options.continue);
      if (token.rv < this.store.compactedThrough) {
        throw expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      revision = token.rv;
      start = token.start;
    } else if (
      options.resourceVersion !== undefined &&
      options.resourceVersion !== "" &&
      options.resourceVersion !== "0"
    ) {
      const requested = parseResourceVersion(options.resourceVersion);
      if (options.resourceVersionMatch === "Exact") {
        if (requested > current) throw tooLargeResourceVersion(requested, current);
        revision = requested;
      } else if (requested > current) {
        // A real apiserver waits ~3 s for its cache to catch up first; nothing will catch up here.
        throw tooLargeResourceVersion(requested, current);
      }
    } else if (options.resourceVersionMatch === "Exact") {
      throw badRequest(
        `resourceVersionMatch "Exact" is forbidden for resourceVersion "${options.resourceVersion ?? ""}"`,
      );
    }
    const all = this.store
      .list(resourceKey(rt), revision)
      .filter((obj) => keyOf(obj) >= start && match(obj));
    const result: ListResult = { items: all, resourceVersion: String(revision) };
    const limit = options.limit ?? 0;
    if (limit > 0 && all.length > limit) {
      result.items = all.slice(0, limit);
      const last = result.items[result.items.length - 1];
      if (last !== undefined)
        result.continue = encodeContinue({
          v: "meta.k8s.io/v1",
          rv: revision,
          start: `${keyOf(last)}\u0000`,
        });
      // Only counted when no selector filters the rest, as on a real apiserver.
      if ((options.labelSelector ?? "") === "" && (options.fieldSelector ?? "") === "")
        result.remainingItemCount = all.length - limit;
    }
    return result;
  }

  // -------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------

  create(
    rt: ResourceType,
    namespace: string | undefined,
    body: unknown,
    options: WriteOptions = {},
  ): StoredObject {
    const obj = this.decode(rt, body);
    const meta = obj.metadata;
    if (rt.namespaced) {
      if (
        meta.namespace !== undefined &&
        meta.namespace !== "" &&
        namespace !== undefined &&
        meta.namespace !== namespace
      ) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
      // etcd3 storage refuses this; the apiserver reports it as an unknown 500.
      throw new StatusError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "resourceVersion should not be set on objects to be created",
        reason: "Unknown",
        code: 500,
      });
    }
    for (const field of [
      "uid",
      "creationTimestamp",
      "deletionTimestamp",
      "deletionGracePeriodSeconds",
      "generation",
      "selfLink",
      "managedFields",
    ]) {
      delete meta[field];
    }
    rt.prepareForCreate?.(obj);
    const generated = (meta.name ?? "") === "" && (meta.generateName ?? "") !== "";
    if (generated) meta.name = generateName(meta.generateName ?? "");
    const errors = [
      ...(rt.validate?.(obj, undefined) ?? []),
      ...this.checkSchema(rt, obj, options),
      ...validateObjectMeta(meta, rt.nameRule, rt.namespaced),
    ];
    if (errors.length > 0) throw invalid(rt.kind, rt.group, meta.name ?? "", errors);
    if (rt.namespaced && !this.namespaceExists(meta.namespace ?? "")) {
      // NamespaceLifecycle admission.
      throw notFound(namespaces, meta.namespace ?? "");
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (rt.hasGeneration) meta.generation = 1;
    const key = resourceKey(rt);
    for (
      let attempt = 1;
      this.store.has(key, objectKey(meta.namespace, meta.name ?? ""));
      attempt++
    ) {
      if (!generated || attempt >= MAX_GENERATE_NAME_ATTEMPTS)
        throw alreadyExists(rt, meta.name ?? "");
      meta.name = generateName(meta.generateName ?? "");
    }
    const stored = obj as StoredObject;
    if (options.dryRun === true) return stored;
    return this.store.commit(key, "ADDED", stored);
  }

  update(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource: Subresource,
    options: WriteOptions = {},
  ): StoredObject {
    const existing = this.get(rt, namespace, name);
    const candidate = this.decode(rt, body);
    if (candidate.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${candidate.metadata.name ?? ""}) does not match the name on the URL (${name})`,
      );
    }
    const ns = candidate.metadata.namespace;
    if (rt.namespaced && ns !== undefined && ns !== "" && ns !== namespace) {
      throw badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    return this.applyUpdate(rt, existing, candidate, subresource, false, options);
  }

  patch(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    subresource: Subresource,
    options: WriteOptions = {},
  ): StoredObject {
    const existing = this.get(rt, namespace, name);
    const patched = applyPatch(type, existing as unknown as Record<string, unknown>, patch);
    const candidate = this.decode(rt, patched);
    const immutable: FieldError[] = [];
    if (candidate.metadata.name !== name) {
      immutable.push({
        field: "metadata.name",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(candidate.metadata.name)}: field is immutable`,
      });
    }
    if (rt.namespaced && candidate.metadata.namespace !== existing.metadata.namespace) {
      immutable.push({
        field: "metadata.namespace",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(candidate.metadata.namespace)}: field is immutable`,
      });
    }
    if (immutable.length > 0) throw invalid(rt.kind, rt.group, name, immutable);
    return this.applyUpdate(rt, existing, candidate, subresource, true, options);
  }

  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    deleteOptions: DeleteOptions = {},
    options: WriteOptions = {},
  ): DeleteResult {
    const existing = this.get(rt, namespace, name);
    const pre = deleteOptions.preconditions;
    if (pre?.uid !== undefined && pre.uid !== "" && pre.uid !== existing.metadata.uid) {
      throw conflict(
        rt,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    if (
      pre?.resourceVersion !== undefined &&
      pre.resourceVersion !== "" &&
      pre.resourceVersion !== existing.metadata.resourceVersion
    ) {
      throw conflict(
        rt,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    if ((existing.metadata.finalizers ?? []).length > 0) {
      // Finalizers pending: mark for deletion; whoever owns a finalizer removes it later.
      if (existing.metadata.deletionTimestamp !== undefined) return { object: existing };
      const marked = deepClone(existing);
      marked.metadata.deletionTimestamp = nowTimestamp();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (options.dryRun === true) return { object: marked };
      return { object: this.store.commit(resourceKey(rt), "MODIFIED", marked) };
    }
    if (options.dryRun === true) return this.deleteResult(rt, existing);
    const deleted = this.store.commit(resourceKey(rt), "DELETED", existing);
    this.collectGarbage(deleted, deleteOptions.propagationPolicy);
    return this.deleteResult(rt, deleted);
  }

  deleteCollection(
    rt: ResourceType,
    namespace: string | undefined,
    list: ListOptions,
    deleteOptions: DeleteOptions = {},
    options: WriteOptions = {},
  ): StoredObject[] {
    const { items } = this.list(rt, namespace, {
      labelSelector: list.labelSelector,
      fieldSelector: list.fieldSelector,
    });
    const deleted: StoredObject[] = [];
    for (const item of items) {
      try {
        const result = this.delete(
          rt,
          item.metadata.namespace,
          item.metadata.name,
          { propagationPolicy: deleteOptions.propagationPolicy },
          options,
        );
        deleted.push(result.object ?? item);
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 404)) throw err;
      }
    }
    return deleted;
  }

  // -------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------

  /** Body → object of this resource: 400 for what the decoder would refuse. */
  private decode(rt: ResourceType, body: unknown): KubeObject {
    if (!isRecord(body))
      throw badRequest(`the object provided is unrecognized (must be of type ${rt.kind})`);
    const obj = deepClone(body) as KubeObject;
    if (obj.kind === undefined || obj.kind === "") {
      // The unstructured decoder of custom resources requires kind; typed decoding defaults it.
      if (rt.custom) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    } else if (obj.kind !== rt.kind) {
      throw badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`,
      );
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== "" && obj.apiVersion !== rt.apiVersion) {
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${rt.apiVersion})`,
      );
    }
    obj.apiVersion = rt.apiVersion;
    obj.kind = rt.kind;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isRecord(obj.metadata)) throw badRequest("metadata must be an object");
    rt.decode?.(obj);
    return obj;
  }

  private checkSchema(rt: ResourceType, obj: KubeObject, options: WriteOptions): FieldError[] {
    if (rt.schema === undefined) return [];
    const { unknownFields, errors } = rt.schema.check(obj as unknown as Record<string, unknown>);
    if (unknownFields.length > 0) {
      const mode = options.fieldValidation ?? "Warn";
      const texts = unknownFields.map((f) => `unknown field "${f}"`);
      if (mode === "Strict") throw badRequest(`strict decoding error: ${texts.join(", ")}`);
      if (mode === "Warn") options.warnings?.push(...texts);
    }
    return errors;
  }

  private applyUpdate(
    rt: ResourceType,
    existing: StoredObject,
    candidate: KubeObject,
    subresource: Subresource,
    fromPatch: boolean,
    options: WriteOptions,
  ): StoredObject {
    const name = existing.metadata.name;
    // metadata.uid and metadata.resourceVersion in the body are preconditions. A real
    // kube-apiserver (1.24, recorded in test/kube/preconditions.test.ts) checks them in a
    // different order and answers differently for PUT and PATCH:
    // - PUT: a uid mismatch first, as the storage layer's precondition (409 with a StorageError
    //   text naming the etcd key), then the resourceVersion (409 "the object has been modified");
    // - PATCH: the resourceVersion first (409), then the uid, which the patched object's metadata
    //   validation refuses as an immutable field (422 Invalid, the cause listed twice).
    const uid = candidate.metadata.uid;
    const uidDiffers = uid !== undefined && uid !== "" && uid !== existing.metadata.uid;
    if (uidDiffers && !fromPatch) {
      throw conflict(
        rt,
        name,
        `StorageError: invalid object, Code: 4, Key: ${etcdKey(rt, existing)}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    const rv = candidate.metadata.resourceVersion;
    if (rv === undefined || rv === "") {
      if ((!fromPatch && !rt.allowUnconditionalUpdate) || (fromPatch && rv === "")) {
        // A merge patch that sets resourceVersion to "" is an update without one.
        throw invalid(rt.kind, rt.group, name, [
          {
            field: "metadata.resourceVersion",
            reason: "FieldValueInvalid",
            message: "Invalid value: 0x0: must be specified for an update",
          },
        ]);
      }
    } else if (rv !== existing.metadata.resourceVersion) {
      throw conflict(rt, name, OBJECT_MODIFIED);
    }
    if (uidDiffers) {
      const immutable: FieldError = {
        field: "metadata.uid",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(uid)}: field is immutable`,
      };
      throw invalid(rt.kind, rt.group, name, [immutable, immutable]);
    }

    let next: KubeObject;
    if (subresource === "status") {
      // Through /status only status changes; everything else is kept as stored.
      next = deepClone(existing);
      if (candidate.status === undefined) delete next.status;
      else next.status = deepClone(candidate.status);
    } else {
      next = candidate;
      // System-maintained metadata is the server's, whatever the client sent.
      const meta: Record<string, unknown> = next.metadata;
      const old: Record<string, unknown> = existing.metadata;
      for (const field of [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
      ]) {
        if (old[field] === undefined) delete meta[field];
        else meta[field] = old[field];
      }
      delete meta.selfLink;
      delete meta.managedFields;
      // With a status subresource the main endpoint ignores status.
      if (hasStatus(rt)) {
        if (existing.status === undefined) delete next.status;
        else next.status = deepClone(existing.status);
      }
    }
    next.metadata.resourceVersion = existing.metadata.resourceVersion;

    const errors: FieldError[] = [];
    if (existing.metadata.deletionTimestamp !== undefined) {
      const before = new Set(existing.metadata.finalizers ?? []);
      const added = (next.metadata.finalizers ?? []).filter((f) => !before.has(f));
      if (added.length > 0) {
        errors.push({
          field: "metadata.finalizers",
          reason: "FieldValueForbidden",
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => quote(f)).join(", ")}}`,
        });
      }
    }
    errors.push(
      ...(rt.validate?.(next, existing) ?? []),
      ...this.checkSchema(rt, next, options),
      ...validateObjectMeta(next.metadata, rt.nameRule, rt.namespaced),
    );
    if (errors.length > 0) throw invalid(rt.kind, rt.group, name, errors);

    if (rt.hasGeneration && !jsonEqual(specOf(rt, next), specOf(rt, existing))) {
      next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    }
    // Nothing changed: etcd is not written, the resourceVersion stays, no watch event.
    if (jsonEqual(next, existing)) return existing;
    const stored = next as StoredObject;
    if (options.dryRun === true) return stored;
    if (
      stored.metadata.deletionTimestamp !== undefined &&
      (stored.metadata.finalizers ?? []).length === 0
    ) {
      // The last finalizer is gone: the object is deleted (watchers see DELETED of its last stored state).
      const deleted = this.store.commit(resourceKey(rt), "DELETED", existing);
      this.collectGarbage(deleted, undefined);
      return deleted;
    }
    return this.store.commit(resourceKey(rt), "MODIFIED", stored);
  }

  private deleteResult(rt: ResourceType, obj: StoredObject): DeleteResult {
    if (rt.returnDeletedObject) return { object: obj };
    const details: Status["details"] = {
      name: obj.metadata.name,
      kind: rt.resource,
      uid: obj.metadata.uid,
    };
    if (rt.group !== "") details.group = rt.group;
    return { status: successStatus(details) };
  }

  /**
   * The garbage collector: after an owner is gone, dependents whose every owner is gone are
   * deleted (background propagation), or lose the reference (Orphan). Runs after the
   * request, as the real controller does.
   */
  private collectGarbage(owner: StoredObject, policy: DeleteOptions["propagationPolicy"]): void {
    const ownerUid = owner.metadata.uid;
    setImmediate(() => {
      const live = new Set<string>();
      const dependents: Array<{ resource: string; object: StoredObject }> = [];
      for (const entry of this.store.all()) {
        live.add(entry.object.metadata.uid);
        if ((entry.object.metadata.ownerReferences ?? []).some((ref) => ref.uid === ownerUid))
          dependents.push(entry);
      }
      for (const { resource, object } of dependents) {
        const rt = this.types.get(resource);
        if (rt === undefined) continue;
        const refs = object.metadata.ownerReferences ?? [];
        const remaining = refs.filter((ref) => ref.uid !== ownerUid && live.has(ref.uid));
        try {
          if (policy !== "Orphan" && remaining.length === 0) {
            this.delete(rt, object.metadata.namespace, object.metadata.name, {
              propagationPolicy: "Background",
            });
          } else {
            const patch = [
              {
                op: "replace",
                path: "/metadata/ownerReferences",
                value: refs.filter((ref) => ref.uid !== ownerUid),
              },
            ];
            this.patch(
              rt,
              object.metadata.namespace,
              object.metadata.name,
              "application/json-patch+json",
              patch,
              undefined,
            );
          }
        } catch {
          // Already gone or changed meanwhile; the next owner deletion looks again.
        }
      }
    });
  }
}

/** The object without metadata (and without status when it has its own endpoint). */
function specOf(rt: ResourceType, obj: KubeObject): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...obj };
  delete rest.metadata;
  if (hasStatus(rt)) delete rest.status;
  return rest;
}

export function parseResourceVersion(value: string): number {
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version "${value}"`);
  return Number(value);
}

function tooLargeResourceVersion(requested: number, current: number): StatusError {
  const err = timeout(`Too large resource version: ${requested}, current: ${current}`, 1);
  err.status.details = {
    ...err.status.details,
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
  };
  return err;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

function decodeContinue(value: string): ContinueToken {
  try {
    const token: unknown = JSON.parse(Buffer.from(value, "base64url").toString("utf8"));
    if (
      isRecord(token) &&
      token.v === "meta.k8s.io/v1" &&
      typeof token.rv === "number" &&
      typeof token.start === "string"
    ) {
      return { v: "meta.k8s.io/v1", rv: token.rv, start: token.start };
    }
  } catch {
    // fall through
  }
  throw badRequest(
    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
  );
}
