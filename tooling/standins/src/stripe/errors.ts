/**
 * Stripe's error body, `{ error: { type, code?, message, param?, doc_url? } }`, and the
 * statuses stripe-node maps to its error classes (400/404 invalid request or idempotency,
 * 401 authentication, 402 card). Texts are Stripe's where we know them.
 */
export type StripeErrorType =
  "invalid_request_error" | "idempotency_error" | "card_error" | "api_error";

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code?: string,
    readonly param?: string,
    readonly declineCode?: string,
  ) {
    super(message);
  }

  body(): { error: Record<string, string> } {
    const error: Record<string, string> = { type: this.type, message: this.message };
    if (this.code) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replaceAll("_", "-")}`;
    }
    if (this.param) error.param = this.param;
    if (this.declineCode) error.decline_code = this.declineCode;
    return { error };
  }
}

/** `No such customer: 'cus_x'` (404, `resource_missing`) as Stripe answers an unknown id. */
export function noSuch(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(
    404,
    "invalid_request_error",
    `No such ${kind}: '${id}'`,
    "resource_missing",
    param,
  );
}

/** An unknown id given as a parameter of another request is a 400, not a 404. */
export function noSuchParam(kind: string, id: string, param: string): StripeApiError {
  return new StripeApiError(
    400,
    "invalid_request_error",
    `No such ${kind}: '${id}'`,
    "resource_missing",
    param,
  );
}

export function missingParam(param: string): StripeApiError {
  return new StripeApiError(
    400,
    "invalid_request_error",
    `Missing required param: ${param}.`,
    "parameter_missing",
    param,
  );
}

export function unknownParam(param: string): StripeApiError {
  return new StripeApiError(
    400,
    "invalid_request_error",
    `Received unknown parameter: ${param}`,
    "parameter_unknown",
    param,
  );
}

export function invalidParam(param: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", message, code, param);
}
