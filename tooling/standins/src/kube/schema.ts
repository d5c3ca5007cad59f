/**
 * Custom-resource validation from a CRD's OpenAPI v3 schema, in the order the apiserver
 * applies it: prune unknown fields, apply defaults, validate. Validation runs on ajv;
 * its errors are rewritten into the apiserver's field errors (`spec.plan: Unsupported
 * value: "gold": supported values: "free", "pro"`).
 */
import Ajv, { type FormatDefinition } from "ajv";
import type { OpenApiV3Schema } from "@irc-now/k8s";
import { isRecord, quote } from "./objects";
import type { FieldError } from "./status";

export interface SchemaCheck {
  /** Paths of fields the schema does not know; they have been removed. */
  unknownFields: string[];
  errors: FieldError[];
}

interface AjvErrorLike {
  keyword: string;
  dataPath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
}

type AjvValidate = ((data: unknown) => boolean) & { errors?: AjvErrorLike[] | null };

const ROOT_META_FIELDS = new Set(["apiVersion", "kind", "metadata"]);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** The OpenAPI formats of kube-openapi that ajv lacks. */
const KUBERNETES_FORMATS: Record<string, FormatDefinition> = {
  int32: {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX,
  },
  int64: { type: "number", validate: (n: number) => Number.isInteger(n) },
  float: { type: "number", validate: () => true },
  double: { type: "number", validate: () => true },
  byte: {
    type: "string",
    validate: (s: string) =>
      /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
  },
  password: { type: "string", validate: () => true },
};

export class StructuralSchema {
  private readonly validateFn: AjvValidate;

  constructor(private readonly schema: OpenApiV3Schema) {
    const ajv = new Ajv({
      allErrors: true,
      useDefaults: true,
      nullable: true,
      verbose: true,
      format: "full",
      // Formats Kubernetes knows and ajv does not are registered below; any other is ignored.
      unknownFormats: "ignore",
      jsonPointers: false,
    });
    for (const [name, format] of Object.entries(KUBERNETES_FORMATS)) ajv.addFormat(name, format);
    this.validateFn = ajv.compile(schema as object) as unknown as AjvValidate;
  }

  /** Prunes, defaults and validates `obj` in place (metadata is not touched). */
  check(obj: Record<string, unknown>): SchemaCheck {
    const unknownFields: string[] = [];
    const errors: FieldError[] = [];
    this.walk(obj, this.schema, "", true, unknownFields, errors);
    if (!this.validateFn(obj)) {
      for (const e of this.validateFn.errors ?? []) {
        const converted = convertAjvError(e);
        // ObjectMeta has its own rules (validateObjectMeta); the schema does not govern it.
        if (!converted.field.startsWith("metadata")) errors.push(converted);
      }
    }
    return { unknownFields, errors };
  }

  private walk(
    value: unknown,
    schema: OpenApiV3Schema,
    path: string,
    root: boolean,
    unknown: string[],
    errors: FieldError[],
  ): void {
    if (Array.isArray(value)) {
      const items = schema.items;
      if (items !== undefined)
        value.forEach((item, i) => this.walk(item, items, `${path}[${i}]`, false, unknown, errors));
      checkListType(value, schema, path, errors);
      return;
    }
    if (!isRecord(value)) return;
    const properties = schema.properties;
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const embedded = schema["x-kubernetes-embedded-resource"] === true;
    for (const key of Object.keys(value)) {
      const childPath = path === "" ? key : `${path}.${key}`;
      if ((root || embedded) && ROOT_META_FIELDS.has(key)) continue;
      const known = properties?.[key];
      if (known !== undefined) {
        this.walk(value[key], known, childPath, false, unknown, errors);
      } else if (isRecord(schema.additionalProperties)) {
        this.walk(value[key], schema.additionalProperties, childPath, false, unknown, errors);
      } else if (!preserve && schema.additionalProperties !== true) {
        unknown.push(childPath);
        delete value[key];
      }
    }
  }
}

/** Uniqueness of `x-kubernetes-list-type: set|map` lists (FieldValueDuplicate). */
function checkListType(
  list: unknown[],
  schema: OpenApiV3Schema,
  path: string,
  errors: FieldError[],
): void {
  const listType = schema["x-kubernetes-list-type"];
  if (listType !== "set" && listType !== "map") return;
  const keys = schema["x-kubernetes-list-map-keys"] ?? [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const identity =
      listType === "set"
        ? item
        : isRecord(item)
          ? Object.fromEntries(keys.map((k) => [k, item[k]]))
          : item;
    const id = JSON.stringify(identity);
    if (seen.has(id)) {
      errors.push({
        field: `${path}[${i}]`,
        reason: "FieldValueDuplicate",
        message: `Duplicate value: ${id}`,
      });
    }
    seen.add(id);
  });
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** `.spec.plan`, `['a-b']`, `[0]` → `spec.plan`, `a-b`, `[0]`. */
function fieldPath(dataPath: string): string {
  const path = dataPath.replace(
    /\['((?:[^'\\]|\\.)*)'\]/g,
    (_m, key: string) => `.${key.replace(/\\'/g, "'")}`,
  );
  return path.startsWith(".") ? path.slice(1) : path;
}

function join(parent: string, child: string): string {
  return parent === "" ? child : `${parent}.${child}`;
}

function convertAjvError(e: AjvErrorLike): FieldError {
  const field = fieldPath(e.dataPath);
  const shown = field === "" ? "<root>" : field;
  switch (e.keyword) {
    case "required": {
      const missing = String(e.params.missingProperty ?? "")
        .replace(/^\./, "")
        .replace(/^\['(.*)'\]$/, "$1");
      return {
        field: join(field, missing),
        reason: "FieldValueRequired",
        message: "Required value",
      };
    }
    case "enum": {
      const allowed = Array.isArray(e.params.allowedValues) ? e.params.allowedValues : [];
      return {
        field,
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${quote(e.data)}: supported values: ${allowed.map((v) => quote(v)).join(", ")}`,
      };
    }
    case "type":
      return {
        field,
        reason: "FieldValueTypeInvalid",
        message: `Invalid value: ${quote(jsonType(e.data))}: ${shown} in body must be of type ${String(e.params.type)}: ${quote(jsonType(e.data))}`,
      };
    case "pattern":
      return {
        field,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(e.data)}: ${shown} in body should match '${String(e.params.pattern)}'`,
      };
    case "format":
      return {
        field,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(e.data)}: ${shown} in body must be of type ${String(e.params.format)}: ${quote(e.data)}`,
      };
    case "maxLength":
      return {
        field,
        reason: "FieldValueTooLong",
        message: `Too long: may not be more than ${String(e.params.limit)} bytes`,
      };
    case "maxItems":
      return {
        field,
        reason: "FieldValueTooMany",
        message: `Too many: ${Array.isArray(e.data) ? e.data.length : "?"}: must have at most ${String(e.params.limit)} items`,
      };
    case "minLength":
      return {
        field,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(e.data)}: ${shown} in body should be at least ${String(e.params.limit)} chars long`,
      };
    case "minimum":
    case "maximum":
      return {
        field,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(e.data)}: ${shown} in body should be ${e.keyword === "minimum" ? "greater" : "less"} than or equal to ${String(e.params.limit)}`,
      };
    default:
      return {
        field,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${quote(e.data)}: ${shown} in body ${e.message ?? "is invalid"}`,
      };
  }
}
