/**
 * What can go wrong talking to IRCCloud, each with words for the person importing. The texts are
 * fixed: they never carry the email, the password, the session cookie or IRCCloud's raw answer.
 */
export type IrccloudErrorKind =
  | "WRONG_CREDENTIALS"
  | "RATE_LIMITED"
  | "LEGACY_ACCOUNT"
  | "REFUSED"
  | "UNAVAILABLE"
  | "TIMEOUT"
  | "UNEXPECTED";

export class IrccloudError extends Error {
  override readonly name = "IrccloudError";
  constructor(
    readonly kind: IrccloudErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** IRCCloud's login `message` codes (facts/irccloud.md "Auth") → a clear error. */
export function loginFailure(message: unknown, status: number): IrccloudError {
  const code = typeof message === "string" ? message : "";
  switch (code) {
    case "rate_limited":
      return new IrccloudError(
        "RATE_LIMITED",
        "IRCCloud is refusing sign-ins for this account for now because of too many attempts. Wait a few minutes, then try again.",
      );
    case "auth":
    case "email":
    case "password":
    case "password_error":
      return new IrccloudError(
        "WRONG_CREDENTIALS",
        "IRCCloud did not accept that email and password. Check them (they are your IRCCloud login, not your irc.now one) and try again.",
      );
    case "legacy_account":
      return new IrccloudError(
        "LEGACY_ACCOUNT",
        "IRCCloud asks this account to sign in on irccloud.com first (it is an older account). Sign in there once, then try the import again.",
      );
    default:
      if (status >= 500)
        return new IrccloudError(
          "UNAVAILABLE",
          "IRCCloud is not answering properly right now. Please try again later.",
        );
      return new IrccloudError(
        "REFUSED",
        `IRCCloud refused the sign-in${/^[a-z_]{1,40}$/.test(code) ? ` (its reason: ${code})` : ""}. Please try again, or sign in on irccloud.com to check your account.`,
      );
  }
}

export const unavailable = () =>
  new IrccloudError(
    "UNAVAILABLE",
    "Could not reach IRCCloud. Check that irccloud.com is up, then try again.",
  );

export const unexpected = (what: string) =>
  new IrccloudError(
    "UNEXPECTED",
    `IRCCloud answered in a way we do not understand (${what}). Nothing was imported; please try again later.`,
  );

export const timedOut = (seconds: number) =>
  new IrccloudError(
    "TIMEOUT",
    `IRCCloud did not send your networks within ${seconds} seconds. Nothing was imported; please try again later.`,
  );
