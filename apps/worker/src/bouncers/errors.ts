import { isErgoAdminError, OperAuthFailed } from "@irc-now/ergo";
import { SojuCommandFailed, SojuInvalidArgument, SojuUnsupported } from "@irc-now/soju";
import type { SetupStep } from "./attempts";

/** A failure the caller retries later (with backoff); the bouncer stays unannotated. */
export class SetupError extends Error {
  override readonly name: string = "SetupError";
  constructor(
    readonly step: SetupStep,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A failure that retrying cannot fix: an ergo account the portal does not own, a name ergo
 * reserves, a refused configuration. The bouncer is parked (`needs_admin`) until an admin acts
 * (adopt the account, fix the configuration, retry) or the worker restarts.
 */
export class NeedsAdmin extends SetupError {
  override readonly name = "NeedsAdmin";
}

/** The setup was cancelled (worker stopping, lock lost); it runs again on the next leader. */
export class SetupCancelled extends SetupError {
  override readonly name = "SetupCancelled";
}

/** Whether an error thrown by a port during setup can succeed later without anyone acting. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof NeedsAdmin) return true;
  if (error instanceof SetupError) return false;
  if (error instanceof OperAuthFailed) return true;
  if (isErgoAdminError(error)) return !error.retryable;
  return (
    error instanceof SojuCommandFailed ||
    error instanceof SojuInvalidArgument ||
    error instanceof SojuUnsupported
  );
}
