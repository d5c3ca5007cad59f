/**
 * The patch formats the apiserver accepts on non-apply PATCH requests: JSON merge patch
 * (RFC 7386), JSON patch (RFC 6902), and strategic merge patch for built-in types.
 */
import jsonPatch, { type Operation } from "fast-json-patch";
import { deepClone, isRecord } from "./objects";
import { badRequest, StatusError, unsupportedMediaType } from "./status";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
export const APPLY_PATCH = "application/apply-patch+yaml";

export type PatchType = typeof MERGE_PATCH | typeof JSON_PATCH | typeof STRATEGIC_MERGE_PATCH;

/**
 * The patch type of a Content-Type header, or 415 as the apiserver answers: custom
 * resources take no strategic merge patch. Server-side apply is not modelled.
 */
export function patchTypeOf(contentType: string | undefined, custom: boolean): PatchType {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const accepted = custom
    ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
  if (mediaType === MERGE_PATCH || mediaType === JSON_PATCH) return mediaType;
  if (mediaType === STRATEGIC_MERGE_PATCH && !custom) return mediaType;
  throw unsupportedMediaType(accepted);
}

/** RFC 7386: objects merge recursively, `null` deletes, everything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return deepClone(patch);
  const result: Record<string, unknown> = isRecord(target) ? deepClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * Applies a patch document to an object. Malformed patches are 400; a JSON patch that
 * does not apply (failed `test`, missing path) is 422, as the apiserver reports them.
 */
export function applyPatch(
  type: PatchType,
  target: Record<string, unknown>,
  patch: unknown,
): Record<string, unknown> {
  if (type === JSON_PATCH) {
    if (!Array.isArray(patch))
      throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    for (const op of patch as unknown[]) {
      if (!isRecord(op) || typeof op.op !== "string" || typeof op.path !== "string") {
        throw badRequest(
          "the server rejected our request due to an error in our request: invalid JSON patch operation",
        );
      }
    }
    try {
      const result = jsonPatch.applyPatch(
        deepClone(target),
        patch as Operation[],
        true,
        true,
      ).newDocument;
      if (!isRecord(result)) throw invalidPatch("the patched document is not an object");
      return result;
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw invalidPatch(describeJsonPatchError(err));
    }
  }
  // Strategic merge patch on built-ins behaves as a merge patch here: their lists are
  // replaced, not merged by key (a documented simplification).
  if (!isRecord(patch))
    throw badRequest("json: cannot unmarshal array into Go value of type map[string]interface {}");
  const result = applyMergePatch(target, patch);
  return isRecord(result) ? result : {};
}

function invalidPatch(message: string): StatusError {
  // apiserver: NewGenericServerResponse(422, …) → reason Invalid, the patch library's message.
  const err = badRequest(message);
  err.status.code = 422;
  err.status.reason = "Invalid";
  return err;
}

function describeJsonPatchError(err: unknown): string {
  if (err instanceof jsonPatch.JsonPatchError) {
    const op = err.operation as { op?: string; path?: string } | undefined;
    switch (err.name) {
      case "TEST_OPERATION_FAILED":
        return `testing value ${op?.path ?? ""} failed: test failed`;
      case "OPERATION_PATH_UNRESOLVABLE":
        return `${op?.op ?? "patch"} operation does not apply: doc is missing path: "${op?.path ?? ""}": missing value`;
      case "OPERATION_FROM_UNRESOLVABLE":
        return `${op?.op ?? "patch"} operation does not apply: doc is missing from path: missing value`;
      default:
        return `${err.name}: ${err.message.split("\n")[0] ?? ""}`;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
