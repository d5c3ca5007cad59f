/**
 * Object shapes and the ObjectMeta rules every resource shares: names, labels,
 * annotations, finalizers, timestamps (k8s.io/apimachinery/pkg/api/validation).
 */
import { randomInt } from "node:crypto";
import type { FieldError } from "./status";

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A stored object: always named, namespaced where its resource is, with uid and resourceVersion. */
export interface StoredObject extends KubeObject {
  metadata: ObjectMeta & {
    name: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepClone<T>(value: T): T {
  return structuredClone(value);
}

/** JSON equality (key order ignored); what "nothing changed" means for a write. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const aKeys = Object.keys(a).filter((k) => a[k] !== undefined);
    const bKeys = Object.keys(b).filter((k) => b[k] !== undefined);
    return aKeys.length === bKeys.length && aKeys.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function nowTimestamp(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** How a resource's names are validated: namespaces use labels, most others subdomains. */
export type NameRule = "dns1123-label" | "dns1123-subdomain";

/** The apiserver's messages for an invalid name, without the `Invalid value: "x": ` prefix. */
export function nameProblems(name: string, rule: NameRule): string[] {
  const problems: string[] = [];
  if (rule === "dns1123-label") {
    if (name.length > 63) problems.push("must be no more than 63 characters");
    if (!DNS1123_LABEL.test(name)) {
      problems.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
  } else {
    if (name.length > 253) problems.push("must be no more than 253 characters");
    if (!DNS1123_SUBDOMAIN.test(name)) {
      problems.push(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      );
    }
  }
  return problems;
}

// Same alphabet and length as k8s.io/apiserver/pkg/storage/names (no vowels, no confusables).
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const GENERATED_SUFFIX_LENGTH = 5;
const MAX_NAME_LENGTH = 63;

export function generateName(prefix: string): string {
  const base =
    prefix.length > MAX_NAME_LENGTH - GENERATED_SUFFIX_LENGTH
      ? prefix.slice(0, MAX_NAME_LENGTH - GENERATED_SUFFIX_LENGTH)
      : prefix;
  let suffix = "";
  for (let i = 0; i < GENERATED_SUFFIX_LENGTH; i++)
    suffix += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)];
  return base + suffix;
}

// ---------------------------------------------------------------------------------------
// Labels, annotations, finalizers
// ---------------------------------------------------------------------------------------

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const NAME_PART_MESSAGE =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** Problems with a qualified name (`prefix/name` or `name`), as IsQualifiedName reports them. */
export function qualifiedNameProblems(value: string): string[] {
  const parts = value.split("/");
  let name = value;
  const problems: string[] = [];
  if (parts.length === 2) {
    const [prefix = "", rest = ""] = parts;
    name = rest;
    if (prefix.length === 0) problems.push("prefix part must be non-empty");
    else {
      for (const p of nameProblems(prefix, "dns1123-subdomain")) problems.push(`prefix part ${p}`);
    }
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) problems.push("name part must be non-empty");
  else {
    if (name.length > 63) problems.push("name part must be no more than 63 characters");
    if (!QUALIFIED_NAME_PART.test(name)) problems.push(NAME_PART_MESSAGE);
  }
  return problems;
}

function labelValueProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length > 63) problems.push("must be no more than 63 characters");
  if (!LABEL_VALUE.test(value)) {
    problems.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  }
  return problems;
}

export function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? "null");
}

/** Field errors for the parts of ObjectMeta every resource validates the same way. */
export function validateObjectMeta(
  meta: ObjectMeta,
  nameRule: NameRule,
  namespaced: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const name = meta.name ?? "";
  if (name === "") {
    errors.push({
      field: "metadata.name",
      reason: "FieldValueRequired",
      message: "Required value: name or generateName is required",
    });
  } else {
    for (const problem of nameProblems(name, nameRule)) {
      errors.push({
        field: "metadata.name",
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(name)}: ${problem}`,
      });
    }
  }
  if (namespaced && (meta.namespace ?? "") === "") {
    errors.push({
      field: "metadata.namespace",
      reason: "FieldValueRequired",
      message: "Required value",
    });
  }
  if (meta.labels !== undefined) {
    if (!isRecord(meta.labels)) {
      errors.push({
        field: "metadata.labels",
        reason: "FieldValueTypeInvalid",
        message: "Invalid value: must be a map of strings",
      });
    } else {
      for (const [key, value] of Object.entries(meta.labels)) {
        for (const p of qualifiedNameProblems(key))
          errors.push({
            field: "metadata.labels",
            reason: "FieldValueInvalid",
            message: `Invalid value: ${quote(key)}: ${p}`,
          });
        if (typeof value !== "string") {
          errors.push({
            field: `metadata.labels`,
            reason: "FieldValueTypeInvalid",
            message: `Invalid value: ${quote(value)}: label values must be strings`,
          });
        } else {
          for (const p of labelValueProblems(value))
            errors.push({
              field: "metadata.labels",
              reason: "FieldValueInvalid",
              message: `Invalid value: ${quote(value)}: ${p}`,
            });
        }
      }
    }
  }
  if (meta.annotations !== undefined) {
    if (!isRecord(meta.annotations)) {
      errors.push({
        field: "metadata.annotations",
        reason: "FieldValueTypeInvalid",
        message: "Invalid value: must be a map of strings",
      });
    } else {
      let total = 0;
      for (const [key, value] of Object.entries(meta.annotations)) {
        for (const p of qualifiedNameProblems(key.toLowerCase())) {
          errors.push({
            field: "metadata.annotations",
            reason: "FieldValueInvalid",
            message: `Invalid value: ${quote(key)}: ${p}`,
          });
        }
        if (typeof value !== "string") {
          errors.push({
            field: `metadata.annotations`,
            reason: "FieldValueTypeInvalid",
            message: `Invalid value: ${quote(value)}: annotation values must be strings`,
          });
        }
        total += key.length + (typeof value === "string" ? value.length : 0);
      }
      if (total > 256 * 1024) {
        errors.push({
          field: "metadata.annotations",
          reason: "FieldValueTooLong",
          message: "Too long: must have at most 262144 bytes",
        });
      }
    }
  }
  if (meta.finalizers !== undefined) {
    if (!Array.isArray(meta.finalizers)) {
      errors.push({
        field: "metadata.finalizers",
        reason: "FieldValueTypeInvalid",
        message: "Invalid value: must be a list of strings",
      });
    } else {
      meta.finalizers.forEach((finalizer, i) => {
        const problems =
          typeof finalizer === "string" ? qualifiedNameProblems(finalizer) : ["must be a string"];
        for (const p of problems)
          errors.push({
            field: `metadata.finalizers[${i}]`,
            reason: "FieldValueInvalid",
            message: `Invalid value: ${quote(finalizer)}: ${p}`,
          });
      });
    }
  }
  return errors;
}
