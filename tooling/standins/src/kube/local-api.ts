/**
 * In-process access to the stand-in's objects for whoever owns it (a simulated operator,
 * tests): the registry's semantics — validation, resourceVersions, watch events — without
 * authentication or fault injection. Resources are named by key: `sojubouncers.irc.now`,
 * `secrets`, `pods`, `namespaces`, `leases.coordination.k8s.io`.
 */
import { deepClone, type KubeObject, type StoredObject } from "./objects";
import { JSON_PATCH, MERGE_PATCH } from "./patch";
import type {
  DeleteOptions,
  DeleteResult,
  ListOptions,
  ListResult,
  Registry,
  WriteOptions,
} from "./registry";
import { objectKey, type StoreEvent } from "./store";

/** In-process access to the stand-in's objects, with the API's semantics but no auth or faults. */
export interface KubeObjects {
  /** The object, or a thrown StatusError (404). `resource` is `sojubouncers.irc.now`, `secrets`, `pods`, … */
  get(resource: string, namespace: string | undefined, name: string): StoredObject;
  /** The object, or undefined when it does not exist. */
  find(resource: string, namespace: string | undefined, name: string): StoredObject | undefined;
  list(resource: string, namespace?: string, options?: ListOptions): ListResult;
  /** Creates `object` in `object.metadata.namespace`. */
  create(resource: string, object: KubeObject, options?: WriteOptions): StoredObject;
  /** Replaces the object named by `object.metadata` (`subresource: "status"` writes only status). */
  update(
    resource: string,
    object: KubeObject,
    options?: WriteOptions & { subresource?: "status" },
  ): StoredObject;
  /** Merge patch by default; `type: "json"` for a JSON patch. */
  patch(
    resource: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options?: WriteOptions & { type?: "merge" | "json"; subresource?: "status" },
  ): StoredObject;
  delete(
    resource: string,
    namespace: string | undefined,
    name: string,
    options?: DeleteOptions,
  ): DeleteResult;
  /** Calls `listener` with every committed change (copies), optionally of one resource only. Returns unsubscribe. */
  watch(listener: (event: StoreEvent) => void, resource?: string): () => void;
  /** Forgets all change history: watches and continue tokens from older resourceVersions get 410 Expired. */
  compact(): void;
  /** The latest resourceVersion. */
  readonly resourceVersion: string;
}

export function localApi(registry: Registry): KubeObjects {
  const store = registry.store;
  return {
    get: (resource, namespace, name) => registry.get(registry.resolve(resource), namespace, name),
    find: (resource, namespace, name) =>
      store.get(
        resource,
        objectKey(registry.resolve(resource).namespaced ? namespace : undefined, name),
      ),
    list: (resource, namespace, listOptions) =>
      registry.list(registry.resolve(resource), namespace, listOptions),
    create: (resource, object, writeOptions) =>
      registry.create(registry.resolve(resource), object.metadata.namespace, object, writeOptions),
    update: (resource, object, writeOptions = {}) =>
      registry.update(
        registry.resolve(resource),
        object.metadata.namespace,
        object.metadata.name ?? "",
        object,
        writeOptions.subresource,
        writeOptions,
      ),
    patch: (resource, namespace, name, patch, patchOptions = {}) =>
      registry.patch(
        registry.resolve(resource),
        namespace,
        name,
        patchOptions.type === "json" ? JSON_PATCH : MERGE_PATCH,
        patch,
        patchOptions.subresource,
        patchOptions,
      ),
    delete: (resource, namespace, name, deleteOptions) =>
      registry.delete(registry.resolve(resource), namespace, name, deleteOptions),
    watch: (listener, resource) =>
      store.subscribe((event) => {
        if (resource === undefined || event.resource === resource) listener(deepClone(event));
      }),
    compact: () => store.compact(),
    get resourceVersion() {
      return String(store.currentRevision);
    },
  };
}
