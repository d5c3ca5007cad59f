import { ErgoAdminError, ErgoRejected, ErgoUnavailable } from "./errors";
import type { Scrubber } from "./scrub";

/** Turns anything thrown into an ErgoAdminError with scrubbed message and stack. */
export function sanitizeError(err: unknown, scrubber: Scrubber): ErgoAdminError {
  const error: ErgoAdminError =
    err instanceof ErgoAdminError
      ? err
      : new ErgoUnavailable(
          `unexpected failure talking to ergo: ${err instanceof Error ? err.message : String(err)}`,
        );
  const message = scrubber.scrub(error.message);
  if (message !== error.message) error.message = message;
  if (error instanceof ErgoRejected) {
    const reason = scrubber.scrub(error.reason);
    if (reason !== error.reason) Object.defineProperty(error, "reason", { value: reason });
  }
  if (error.stack !== undefined) error.stack = scrubber.scrub(error.stack);
  if ("cause" in error) delete (error as { cause?: unknown }).cause;
  return error;
}
