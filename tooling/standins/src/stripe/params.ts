/** Reading Stripe's form-encoded parameters (qs semantics: `a[b][0][c]=v`, all values strings). */
import { parse } from "qs";
import { invalidParam, missingParam, unknownParam } from "./errors";
import type { Metadata } from "./model";

export type Params = Record<string, unknown>;

/** Parses a form body or query string as Stripe does (nested brackets, indexed arrays). */
export function parseParams(text: string): Params {
  return parse(text, { depth: 10, arrayLimit: 100, parameterLimit: 2000 }) as Params;
}

/** Refuses any parameter outside `allowed` (plus `expand`), naming the first as Stripe does. */
export function allowOnly(params: Params, allowed: readonly string[], prefix = ""): void {
  for (const key of Object.keys(params)) {
    if (key === "expand" && !prefix) continue;
    if (!allowed.includes(key)) throw unknownParam(prefix ? `${prefix}[${key}]` : key);
  }
}

export function str(params: Params, name: string, display = name): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw invalidParam(display, `Invalid string: ${display}`);
  return v;
}

export function requiredStr(params: Params, name: string, display = name): string {
  const v = str(params, name, display);
  if (v === undefined || v === "") throw missingParam(display);
  return v;
}

export function bool(params: Params, name: string): boolean | undefined {
  const v = str(params, name);
  if (v === undefined) return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalidParam(name, `Invalid boolean: ${v}`);
}

export function int(params: Params, name: string): number | undefined {
  const v = str(params, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw invalidParam(name, `Invalid integer: ${v}`);
  return Number(v);
}

export function hash(params: Params, name: string): Params | undefined {
  const v = params[name];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw invalidParam(name, `Invalid hash`);
  return v as Params;
}

export function array(params: Params, name: string): Params[] | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  const items = Array.isArray(v)
    ? v
    : typeof v === "object" && v !== null
      ? Object.values(v)
      : null;
  if (!items || items.some((i) => typeof i !== "object" || i === null))
    throw invalidParam(name, `Invalid array`);
  return items as Params[];
}

/**
 * Applies a `metadata` parameter to existing metadata as Stripe does: keys merge, a key set to
 * "" is removed, `metadata=""` clears everything.
 */
export function applyMetadata(current: Metadata, params: Params): Metadata {
  const v = params.metadata;
  if (v === undefined) return current;
  if (v === "") return {};
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw invalidParam("metadata", "Invalid hash");
  const out = { ...current };
  for (const [key, value] of Object.entries(v as Params)) {
    if (typeof value !== "string") throw invalidParam(`metadata[${key}]`, "Invalid string");
    if (key.length > 40)
      throw invalidParam(`metadata[${key}]`, "Metadata keys can have up to 40 characters.");
    if (value.length > 500)
      throw invalidParam(`metadata[${key}]`, "Metadata values can have up to 500 characters.");
    if (value === "") delete out[key];
    else out[key] = value;
  }
  if (Object.keys(out).length > 50)
    throw invalidParam("metadata", "Metadata can have up to 50 keys.");
  return out;
}

/** A stable text of parsed parameters, for comparing an idempotent retry with its original. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Params)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}
