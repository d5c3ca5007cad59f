/** Domain errors carry a message meant for the person using the app; tRPC maps their kind. */
export type DomainErrorKind =
  | "NOT_FOUND"
  | "CONFLICT"
  | "FORBIDDEN"
  | "BAD_REQUEST"
  | "PRECONDITION_FAILED"
  | "UNAVAILABLE"
  /** A rate limit: the message says when to try again. */
  | "RATE_LIMITED";

export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
  }
}
