/**
 * What the stand-in serves: one `ResourceType` per resource, carrying the per-resource
 * behaviour a real apiserver keeps in its REST strategies (defaults, validation, status
 * subresource, generation, field selectors). Built-ins are written here; custom resources
 * are derived from their CRD manifest.
 */
import type { CustomResourceDefinition } from "@irc-now/k8s";
import { isRecord, quote, type KubeObject, type NameRule, type StoredObject } from "./objects";
import { StructuralSchema } from "./schema";
import { badRequest, type FieldError } from "./status";

export type Verb =
  "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface ResourceType {
  group: string;
  version: string;
  /** `irc.now/v1alpha1`, `v1`. */
  apiVersion: string;
  /** Plural resource name, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  namespaced: boolean;
  verbs: Verb[];
  /** Subresources served (`status`, `exec`). */
  subresources: string[];
  /** Custom resources are unstructured: no strategic merge patch, kind required, typed list items keep kind. */
  custom: boolean;
  /** metadata.generation is maintained (bumped when anything but metadata/status changes). */
  hasGeneration: boolean;
  /** PUT without metadata.resourceVersion is allowed (false for custom resources). */
  allowUnconditionalUpdate: boolean;
  /** DELETE answers with the object instead of a Success Status. */
  returnDeletedObject: boolean;
  nameRule: NameRule;
  /** Field-selector attributes besides metadata.name/metadata.namespace. */
  fields: Record<string, (obj: StoredObject) => string | undefined>;
  /** Custom resources: the CRD schema. */
  schema?: StructuralSchema;
  /** Decoding rules that fail with 400 (e.g. base64 in Secret data) and write-only fields. */
  decode?: (obj: KubeObject) => void;
  /** Defaults and cleared fields on create (PrepareForCreate). */
  prepareForCreate?: (obj: KubeObject) => void;
  /** Resource-specific validation; `old` is set on updates. */
  validate?: (obj: KubeObject, old: StoredObject | undefined) => FieldError[];
}

/** `sojubouncers.irc.now`, `pods`, `leases.coordination.k8s.io`. */
export function resourceKey(rt: Pick<ResourceType, "group" | "resource">): string {
  return rt.group === "" ? rt.resource : `${rt.resource}.${rt.group}`;
}

/**
 * The object's key in etcd, as the apiserver's storage errors name it: built-in resources under
 * `/registry/<resource>/`, custom resources under `/registry/<group>/<resource>/`
 * (e.g. `/registry/secrets/irc-now/x`, `/registry/leases/irc-now/x`,
 * `/registry/irc.now/sojubouncers/irc-now/x`, `/registry/namespaces/x`).
 */
export function etcdKey(
  rt: Pick<ResourceType, "group" | "resource" | "custom">,
  meta: { metadata: { namespace?: string; name: string } },
): string {
  const prefix = rt.custom ? `/registry/${rt.group}/${rt.resource}` : `/registry/${rt.resource}`;
  const ns = meta.metadata.namespace;
  return ns === undefined || ns === ""
    ? `${prefix}/${meta.metadata.name}`
    : `${prefix}/${ns}/${meta.metadata.name}`;
}

export function hasStatus(rt: ResourceType): boolean {
  return rt.subresources.includes("status");
}

const ALL_VERBS: Verb[] = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
];

function core(
  partial: Omit<
    ResourceType,
    "group" | "version" | "apiVersion" | "custom" | "hasGeneration" | "listKind"
  > &
    Partial<ResourceType>,
): ResourceType {
  return {
    group: "",
    version: "v1",
    apiVersion: "v1",
    custom: false,
    hasGeneration: false,
    listKind: `${partial.kind}List`,
    ...partial,
  };
}

// ---------------------------------------------------------------------------------------
// namespaces
// ---------------------------------------------------------------------------------------

// Deleting a namespace needs the namespace controller (cascading deletion); not modelled.
export const namespaces: ResourceType = core({
  resource: "namespaces",
  singular: "namespace",
  kind: "Namespace",
  shortNames: ["ns"],
  namespaced: false,
  verbs: ["get", "list", "watch", "create", "update", "patch"],
  subresources: ["status"],
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  nameRule: "dns1123-label",
  fields: { "status.phase": (o) => str(record(o.status).phase) },
  prepareForCreate(obj) {
    const name = obj.metadata.name ?? "";
    obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": name };
    obj.spec = { finalizers: ["kubernetes"] };
    obj.status = { phase: "Active" };
  },
});

// ---------------------------------------------------------------------------------------
// secrets
// ---------------------------------------------------------------------------------------

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export const secrets: ResourceType = core({
  resource: "secrets",
  singular: "secret",
  kind: "Secret",
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  subresources: [],
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  nameRule: "dns1123-subdomain",
  fields: { type: (o) => str(o.type) },
  decode(obj) {
    // data is []byte in Go: anything but base64 fails decoding (400), before validation.
    if (obj.data !== undefined && obj.data !== null) {
      if (!isRecord(obj.data))
        throw badRequest(
          `Secret in version "v1" cannot be handled as a Secret: data must be a map`,
        );
      for (const value of Object.values(obj.data)) {
        if (typeof value !== "string" || !BASE64.test(value)) {
          throw badRequest(
            `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0`,
          );
        }
      }
    }
    // stringData is write-only: merged into data, never stored.
    if (isRecord(obj.stringData)) {
      const data: Record<string, unknown> = isRecord(obj.data) ? { ...obj.data } : {};
      for (const [key, value] of Object.entries(obj.stringData))
        data[key] = Buffer.from(String(value), "utf8").toString("base64");
      obj.data = data;
    }
    delete obj.stringData;
    obj.type ??= "Opaque";
  },
  validate(obj, old) {
    const errors: FieldError[] = [];
    if (isRecord(obj.data)) {
      for (const key of Object.keys(obj.data)) {
        if (!CONFIG_KEY.test(key) || key.length > 253) {
          errors.push({
            field: `data[${key}]`,
            reason: "FieldValueInvalid",
            message: `Invalid value: ${quote(key)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
          });
        }
      }
    }
    if (old !== undefined) {
      if (obj.type !== old.type)
        errors.push({
          field: "type",
          reason: "FieldValueInvalid",
          message: `Invalid value: ${quote(obj.type)}: field is immutable`,
        });
      if (old.immutable === true) {
        if (JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {})) {
          errors.push({
            field: "data",
            reason: "FieldValueForbidden",
            message: "Forbidden: field is immutable when `immutable` is set",
          });
        }
        if (obj.immutable !== true)
          errors.push({
            field: "immutable",
            reason: "FieldValueForbidden",
            message: "Forbidden: field is immutable when `immutable` is set",
          });
      }
    }
    return errors;
  },
});

// ---------------------------------------------------------------------------------------
// pods
// ---------------------------------------------------------------------------------------

export const pods: ResourceType = core({
  resource: "pods",
  singular: "pod",
  kind: "Pod",
  shortNames: ["po"],
  namespaced: true,
  verbs: ALL_VERBS,
  subresources: ["status", "exec"],
  allowUnconditionalUpdate: true,
  returnDeletedObject: true,
  nameRule: "dns1123-subdomain",
  fields: {
    "spec.nodeName": (o) => str(record(o.spec).nodeName) ?? "",
    "spec.restartPolicy": (o) => str(record(o.spec).restartPolicy),
    "spec.schedulerName": (o) => str(record(o.spec).schedulerName),
    "spec.serviceAccountName": (o) => str(record(o.spec).serviceAccountName),
    "status.phase": (o) => str(record(o.status).phase),
    "status.podIP": (o) => str(record(o.status).podIP) ?? "",
    "status.nominatedNodeName": (o) => str(record(o.status).nominatedNodeName) ?? "",
  },
  prepareForCreate(obj) {
    const spec = record(obj.spec);
    spec.restartPolicy ??= "Always";
    spec.schedulerName ??= "default-scheduler";
    spec.serviceAccountName ??= "default";
    obj.spec = spec;
    obj.status = { phase: "Pending", qosClass: "BestEffort" };
  },
  validate(obj) {
    const errors: FieldError[] = [];
    const containers = record(obj.spec).containers;
    if (!Array.isArray(containers) || containers.length === 0) {
      errors.push({
        field: "spec.containers",
        reason: "FieldValueRequired",
        message: "Required value",
      });
      return errors;
    }
    const seen = new Set<string>();
    containers.forEach((c: unknown, i) => {
      const container = record(c);
      const name = container.name;
      if (typeof name !== "string" || name === "") {
        errors.push({
          field: `spec.containers[${i}].name`,
          reason: "FieldValueRequired",
          message: "Required value",
        });
      } else if (seen.has(name)) {
        errors.push({
          field: `spec.containers[${i}].name`,
          reason: "FieldValueDuplicate",
          message: `Duplicate value: ${quote(name)}`,
        });
      } else {
        seen.add(name);
      }
      if (typeof container.image !== "string" || container.image === "") {
        errors.push({
          field: `spec.containers[${i}].image`,
          reason: "FieldValueRequired",
          message: "Required value",
        });
      }
    });
    return errors;
  },
});

// ---------------------------------------------------------------------------------------
// leases
// ---------------------------------------------------------------------------------------

export const leases: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  apiVersion: "coordination.k8s.io/v1",
  resource: "leases",
  singular: "lease",
  kind: "Lease",
  listKind: "LeaseList",
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  subresources: [],
  custom: false,
  hasGeneration: false,
  allowUnconditionalUpdate: true,
  returnDeletedObject: false,
  nameRule: "dns1123-subdomain",
  fields: {},
  validate(obj) {
    const errors: FieldError[] = [];
    const spec = record(obj.spec);
    const duration = spec.leaseDurationSeconds;
    if (
      duration !== undefined &&
      duration !== null &&
      !(typeof duration === "number" && duration > 0)
    ) {
      errors.push({
        field: "spec.leaseDurationSeconds",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(duration)}: must be greater than 0`,
      });
    }
    const transitions = spec.leaseTransitions;
    if (
      transitions !== undefined &&
      transitions !== null &&
      !(typeof transitions === "number" && transitions >= 0)
    ) {
      errors.push({
        field: "spec.leaseTransitions",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(transitions)}: must be greater than or equal to 0`,
      });
    }
    return errors;
  },
};

// ---------------------------------------------------------------------------------------
// custom resources
// ---------------------------------------------------------------------------------------

/** The resource type a CRD defines, served at its storage version. */
export function customResource(crd: CustomResourceDefinition): ResourceType {
  const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
  if (version === undefined) throw new Error(`CRD ${crd.metadata.name} has no versions`);
  const openApi = version.schema?.openAPIV3Schema;
  const names = crd.spec.names;
  const rt: ResourceType = {
    group: crd.spec.group,
    version: version.name,
    apiVersion: `${crd.spec.group}/${version.name}`,
    resource: names.plural,
    singular: names.singular ?? names.kind.toLowerCase(),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    shortNames: names.shortNames ?? [],
    namespaced: crd.spec.scope === "Namespaced",
    verbs: ALL_VERBS,
    subresources: version.subresources?.status !== undefined ? ["status"] : [],
    custom: true,
    hasGeneration: true,
    allowUnconditionalUpdate: false,
    returnDeletedObject: false,
    nameRule: "dns1123-subdomain",
    fields: {},
  };
  if (openApi !== undefined) rt.schema = new StructuralSchema(openApi);
  // With a status subresource the main endpoint ignores status: it is dropped on create.
  if (rt.subresources.includes("status")) rt.prepareForCreate = (obj) => void delete obj.status;
  return rt;
}

export const BUILTIN_RESOURCES: readonly ResourceType[] = [namespaces, secrets, pods, leases];

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
