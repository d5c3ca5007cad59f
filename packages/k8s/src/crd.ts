/**
 * The SojuBouncer custom resource: its group/version/kind, the label and annotation keys
 * of the contract (DESIGN.md §2), and the CRD manifest the project ships
 * (`packages/k8s/crd/sojubouncer.yaml`). Importing this module has no side effects; the
 * manifest is read only when `loadSojuBouncerCrd()` is called.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

// ---------------------------------------------------------------------------------------
// Group / version / kind
// ---------------------------------------------------------------------------------------

export const SOJU_BOUNCER_GROUP = "irc.now";
export const SOJU_BOUNCER_VERSION = "v1alpha1";
/** `apiVersion` of a SojuBouncer object. */
export const SOJU_BOUNCER_API_VERSION = `${SOJU_BOUNCER_GROUP}/${SOJU_BOUNCER_VERSION}`;
export const SOJU_BOUNCER_PLURAL = "sojubouncers";
export const SOJU_BOUNCER_KIND = "SojuBouncer";

/** Everything a dynamic client needs to address SojuBouncers. */
export const sojuBouncerResource = {
  group: SOJU_BOUNCER_GROUP,
  version: SOJU_BOUNCER_VERSION,
  apiVersion: SOJU_BOUNCER_API_VERSION,
  plural: SOJU_BOUNCER_PLURAL,
  kind: SOJU_BOUNCER_KIND,
} as const;

/** The plans a SojuBouncer's `spec.plan` may name (the CRD's enum). */
export const SOJU_BOUNCER_PLANS = ["free", "pro"] as const;
export type SojuBouncerPlan = (typeof SOJU_BOUNCER_PLANS)[number];

// ---------------------------------------------------------------------------------------
// Labels and annotations
// ---------------------------------------------------------------------------------------

/** Annotation the worker writes once upstream setup succeeded; its absence means "set up". */
export const ANNOTATION_UPSTREAM_CONFIGURED = "irc.now/upstream-configured";
/** Annotation the portal's admin "retry" sets (ISO time), so the worker sees a change. */
export const ANNOTATION_RETRY_REQUESTED_AT = "irc.now/retry-requested-at";
/** Label on a SojuBouncer: the accounts user id of its owner. */
export const LABEL_OWNER = "irc.now/owner";
/** Label on a bouncer's pods: the bouncer (SojuBouncer) name. */
export const LABEL_BOUNCER = "irc.now/bouncer";
/** Standard label naming the tool that manages an object. */
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
/** Value of {@link LABEL_MANAGED_BY} on SojuBouncers the portal creates. */
export const MANAGED_BY_PORTAL = "irc-now-portal";

// ---------------------------------------------------------------------------------------
// CRD manifest
// ---------------------------------------------------------------------------------------

/**
 * An OpenAPI v3 schema as written in a CRD (structural schema, with `x-kubernetes-*`
 * extensions). Kept as plain JSON: the field names are the manifest's, not a client's.
 */
export interface OpenApiV3Schema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, OpenApiV3Schema>;
  additionalProperties?: boolean | OpenApiV3Schema;
  required?: string[];
  items?: OpenApiV3Schema;
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-embedded-resource"?: boolean;
  [extension: string]: unknown;
}

export interface CustomResourceDefinitionVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema: OpenApiV3Schema };
  subresources?: { status?: Record<string, never>; scale?: Record<string, unknown> };
  additionalPrinterColumns?: Array<{
    name: string;
    type: string;
    jsonPath: string;
    description?: string;
    priority?: number;
    format?: string;
  }>;
}

/** An `apiextensions.k8s.io/v1` CustomResourceDefinition manifest, as written in YAML. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: "Namespaced" | "Cluster";
    names: {
      plural: string;
      singular?: string;
      kind: string;
      listKind?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: CustomResourceDefinitionVersion[];
  };
}

/** Absolute path of the shipped SojuBouncer CRD manifest. */
export function sojuBouncerCrdPath(): string {
  return fileURLToPath(new URL("../crd/sojubouncer.yaml", import.meta.url));
}

/**
 * Parses a CRD manifest (YAML or JSON text) and checks the parts every consumer relies on.
 * Throws an Error naming the first missing part.
 */
export function parseCustomResourceDefinition(text: string): CustomResourceDefinition {
  const doc: unknown = parse(text);
  if (
    !isRecord(doc) ||
    doc.apiVersion !== "apiextensions.k8s.io/v1" ||
    doc.kind !== "CustomResourceDefinition"
  ) {
    throw new Error("not an apiextensions.k8s.io/v1 CustomResourceDefinition");
  }
  const spec = doc.spec;
  if (!isRecord(doc.metadata) || typeof doc.metadata.name !== "string")
    throw new Error("CRD has no metadata.name");
  if (!isRecord(spec) || typeof spec.group !== "string") throw new Error("CRD has no spec.group");
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster")
    throw new Error("CRD spec.scope must be Namespaced or Cluster");
  if (
    !isRecord(spec.names) ||
    typeof spec.names.plural !== "string" ||
    typeof spec.names.kind !== "string"
  ) {
    throw new Error("CRD has no spec.names.plural/kind");
  }
  if (!Array.isArray(spec.versions) || spec.versions.length === 0)
    throw new Error("CRD has no spec.versions");
  for (const version of spec.versions as unknown[]) {
    if (!isRecord(version) || typeof version.name !== "string")
      throw new Error("CRD version without a name");
  }
  return doc as unknown as CustomResourceDefinition;
}

/** Reads and parses the SojuBouncer CRD manifest (a fresh object on every call). */
export function loadSojuBouncerCrd(path: string = sojuBouncerCrdPath()): CustomResourceDefinition {
  return parseCustomResourceDefinition(readFileSync(path, "utf8"));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
