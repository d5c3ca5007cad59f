import { ApiException } from "@kubernetes/client-node";

/** HTTP status of a failed Kubernetes API call, or undefined for transport errors. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "number"
  )
    return error.code;
  return undefined;
}

export const isNotFound = (error: unknown) => statusCodeOf(error) === 404;
export const isConflict = (error: unknown) => statusCodeOf(error) === 409;

/** The `reason` of a Kubernetes `Status` error body (e.g. AlreadyExists, Conflict, Invalid). */
export function reasonOf(error: unknown): string | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
  return typeof body === "object" &&
    body !== null &&
    "reason" in body &&
    typeof body.reason === "string"
    ? body.reason
    : undefined;
}

/** A short, secret-free description of a Kubernetes API failure for logs and UI. */
export function describeKubeError(error: unknown): string {
  if (error instanceof ApiException) {
    const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
    const message =
      typeof body === "object" &&
      body !== null &&
      "message" in body &&
      typeof body.message === "string"
        ? body.message
        : undefined;
    return `Kubernetes API ${error.code}${message ? `: ${message}` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A Kubernetes API call got no complete answer within its deadline (`requestTimeoutMs`): the
 * apiserver, or something in front of it, hung. Retryable; the call may or may not have taken
 * effect (a write that timed out must be checked, not assumed).
 */
export class KubeRequestTimeout extends Error {
  override readonly name = "KubeRequestTimeout";
  readonly retryable = true;
  constructor(
    readonly method: string,
    /** The URL path, never the query. */
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`Kubernetes API ${method} ${path} timed out: no complete answer within ${timeoutMs} ms`);
  }
}

export const isKubeTimeout = (error: unknown): error is KubeRequestTimeout =>
  error instanceof KubeRequestTimeout;
