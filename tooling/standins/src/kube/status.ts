/**
 * `metav1.Status` objects and the errors that carry them. Every failure the stand-in
 * answers is one of these, with the reason, code, message and details a real apiserver
 * uses for the same situation (k8s.io/apimachinery/pkg/api/errors).
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A field-level validation failure (k8s.io/apimachinery/pkg/util/validation/field). */
export interface FieldError {
  /** `Required value`, `Invalid value: …` etc. without the field path. */
  message: string;
  /** `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, … */
  reason: string;
  /** `spec.plan`, `metadata.labels`, `status.conditions[0].status`. */
  field: string;
}

/** The group-qualified name of a resource as it appears in messages: `sojubouncers.irc.now`, `secrets`. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = "StatusError";
  }

  get code(): number {
    return this.status.code;
  }
}

export function qualified(res: QualifiedResource): string {
  return res.group === "" ? res.resource : `${res.resource}.${res.group}`;
}

function failure(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): StatusError {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
  if (details !== undefined) status.details = details;
  return new StatusError(status);
}

function resourceDetails(res: QualifiedResource, name?: string): StatusDetails {
  const details: StatusDetails = {};
  if (name !== undefined && name !== "") details.name = name;
  if (res.group !== "") details.group = res.group;
  details.kind = res.resource;
  return details;
}

export function successStatus(details?: StatusDetails): Status {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    code: 200,
  };
  if (details !== undefined) status.details = details;
  return status;
}

export function notFound(res: QualifiedResource, name: string): StatusError {
  return failure(
    404,
    "NotFound",
    `${qualified(res)} "${name}" not found`,
    resourceDetails(res, name),
  );
}

/** 404 for a path no resource lives at. */
export function pathNotFound(): StatusError {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

export function alreadyExists(res: QualifiedResource, name: string): StatusError {
  return failure(
    409,
    "AlreadyExists",
    `${qualified(res)} "${name}" already exists`,
    resourceDetails(res, name),
  );
}

export function conflict(res: QualifiedResource, name: string, why: string): StatusError {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(res)} "${name}": ${why}`,
    resourceDetails(res, name),
  );
}

export const OBJECT_MODIFIED =
  "the object has been modified; please apply your changes to the latest version and try again";

/** 422 Invalid: `Kind.group "name" is invalid: field: message[, …]`. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  errors: FieldError[],
): StatusError {
  // Like field.ErrorList.ToAggregate: the message lists each distinct error once, the causes
  // keep every entry (a real apiserver can report one cause twice).
  const rendered = [...new Set(errors.map((e) => `${e.field}: ${e.message}`))];
  const list = rendered.length === 1 ? (rendered[0] ?? "") : `[${rendered.join(", ")}]`;
  const qualifiedKind = group === "" ? kind : `${kind}.${group}`;
  const details: StatusDetails = {
    name,
    kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
  };
  if (group !== "") details.group = group;
  return failure(422, "Invalid", `${qualifiedKind} "${name}" is invalid: ${list}`, details);
}

export function badRequest(message: string): StatusError {
  return failure(400, "BadRequest", message);
}

export function forbidden(
  res: QualifiedResource,
  name: string | undefined,
  why: string,
): StatusError {
  const subject =
    name === undefined || name === "" ? qualified(res) : `${qualified(res)} "${name}"`;
  return failure(403, "Forbidden", `${subject} is forbidden: ${why}`, resourceDetails(res, name));
}

export function unauthorized(): StatusError {
  return failure(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(): StatusError {
  return failure(
    405,
    "MethodNotAllowed",
    "the server does not allow this method on the requested resource",
    {},
  );
}

export function unsupportedMediaType(accepted: string[]): StatusError {
  return failure(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    {},
  );
}

export function requestEntityTooLarge(limit: number): StatusError {
  return failure(413, "RequestEntityTooLarge", `limit is ${limit}`);
}

export function expired(message: string): StatusError {
  return failure(410, "Expired", message);
}

export function internalError(message: string): StatusError {
  return failure(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

export function timeout(message: string, retryAfterSeconds?: number): StatusError {
  return failure(
    504,
    "Timeout",
    message,
    retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
  );
}

/** The Status a real apiserver answers for an HTTP status code it produced on its own. */
export function statusForCode(code: number, message: string): StatusError {
  switch (code) {
    case 429:
      return failure(429, "TooManyRequests", message, { retryAfterSeconds: 1 });
    case 503:
      return failure(503, "ServiceUnavailable", message);
    case 504:
      return timeout(message);
    case 500:
      return internalError(message);
    default:
      return failure(code, code >= 500 ? "InternalError" : "BadRequest", message);
  }
}
