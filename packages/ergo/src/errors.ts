/**
 * Typed failures of the ErgoAdmin port. Every message is built from text that went through the
 * adapter's secret scrubber: no password (users', the oper's) or API token ever appears in
 * `message` or `stack`.
 */

export type ErgoAdminErrorCode = "OPER_AUTH_FAILED" | "TIMEOUT" | "UNAVAILABLE" | "REJECTED";

export abstract class ErgoAdminError extends Error {
  abstract readonly code: ErgoAdminErrorCode;
  /** True when the same call may succeed later without a change of configuration or input. */
  abstract readonly retryable: boolean;
}

/**
 * ergo refused our administrative credentials or privileges: a wrong oper name/password
 * (numeric 464/491), an oper without the `accreg` capability ("Command restricted",
 * "Insufficient privileges"), or — HTTP adapter — a bearer token answered with 401/403.
 * Not retryable: it needs a configuration change.
 */
export class OperAuthFailed extends ErgoAdminError {
  override readonly name = "OperAuthFailed";
  readonly code = "OPER_AUTH_FAILED" as const;
  readonly retryable = false;
}

/** ergo did not answer within the configured time (connect, registration, OPER or a command). */
export class ErgoTimeout extends ErgoAdminError {
  override readonly name = "ErgoTimeout";
  readonly code = "TIMEOUT" as const;
  readonly retryable = true;
}

/** ergo cannot be reached or answered in a way that says nothing about the request (HTTP 5xx…). */
export class ErgoUnavailable extends ErgoAdminError {
  override readonly name = "ErgoUnavailable";
  readonly code = "UNAVAILABLE" as const;
  readonly retryable = true;
}

/** ergo (or the port's own input checks) refused this request; `reason` says why. */
export class ErgoRejected extends ErgoAdminError {
  override readonly name = "ErgoRejected";
  readonly code = "REJECTED" as const;
  readonly retryable = false;
  constructor(readonly reason: string) {
    super(`ergo rejected the request: ${reason}`);
  }
}

export function isErgoAdminError(error: unknown): error is ErgoAdminError {
  return error instanceof ErgoAdminError;
}
