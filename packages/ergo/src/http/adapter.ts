import { ErgoRejected, ErgoTimeout, ErgoUnavailable, OperAuthFailed } from "../errors";
import { sanitizeError } from "../guard";
import { scrubbingLogger, silentLogger, type ErgoLogger } from "../logger";
import { Scrubber } from "../scrub";
import type { ErgoAdmin } from "../types";
import { checkName, checkPassword } from "../validate";

export interface HttpErgoAdminOptions {
  /** ERGO_API_URL, e.g. `http://127.0.0.1:8089` (a path prefix is kept). */
  url: string;
  /** ERGO_API_TOKEN (a bearer token from ergo's `api.bearer-tokens`). */
  token: string;
  logger?: ErgoLogger;
  /** Per request, including reading the body (10 000 ms). */
  requestTimeoutMs?: number;
  /** For tests: another fetch implementation. */
  fetch?: typeof fetch;
  /**
   * The oper session that erases accounts (ergo's HTTP API has no endpoint for it); the factory
   * passes one when ERGO_IRC_URL and the oper credentials are set besides ERGO_API_URL.
   */
  operSession?: Pick<ErgoAdmin, "unregisterAccount" | "close">;
}

type Json = Record<string, unknown>;

/**
 * ErgoAdmin over ergo's HTTP API (ergo ≥ 2.18 for /v1/ns/*, ≥ 2.19 for /v1/whois): every call
 * is a POST with a JSON body and `Authorization: Bearer <token>`. A 401/403 means the token was
 * refused → OperAuthFailed (the HTTP counterpart of a refused OPER: fix the configuration);
 * any other non-200 → ErgoUnavailable; no answer in time → ErgoTimeout.
 */
export class HttpErgoAdmin implements ErgoAdmin {
  readonly kind = "http" as const;
  private readonly base: URL;
  private readonly scrubber: Scrubber;
  private readonly log: ErgoLogger;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly closing = new AbortController();

  constructor(private readonly options: HttpErgoAdminOptions) {
    if (options.token === "") throw new TypeError("ERGO_API_TOKEN is empty");
    this.scrubber = new Scrubber([options.token]);
    this.log = scrubbingLogger(options.logger ?? silentLogger, this.scrubber);
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new TypeError("ERGO_API_URL is not a URL");
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError("ERGO_API_URL must use http:// or https://");
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    base.username = "";
    base.password = "";
    this.base = base;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async ensureAccount(account: string, password: string): Promise<"created" | "reset"> {
    if ((await this.register(account, password)) === "created") return "created";
    await this.resetPassword(account, password);
    return "reset";
  }

  register(account: string, password: string): Promise<"created" | "exists"> {
    return this.guard("register", [password], async () => {
      checkName("account", account);
      checkPassword(password);
      const registered = await this.post("v1/ns/saregister", {
        accountName: account,
        passphrase: password,
      });
      if (registered.success === true) {
        this.log.info({ account }, "ergo account created");
        return "created";
      }
      const code = stringField(registered, "errorCode");
      const text = stringField(registered, "error");
      if (code !== "ACCOUNT_EXISTS") throw new ErgoRejected(apiFailure("saregister", code, text));
      // ergo reports restricted/guest names with the same code; its text tells them apart
      if (text === "Account already exists") {
        throw new ErgoRejected(
          "ergo reserves this name (a service name or the guest nick pattern): Account already exists",
        );
      }
      return "exists";
    });
  }

  resetPassword(account: string, password: string): Promise<void> {
    return this.guard("resetPassword", [password], async () => {
      checkName("account", account);
      checkPassword(password);
      const changed = await this.post("v1/ns/passwd", {
        accountName: account,
        passphrase: password,
      });
      if (changed.success !== true) {
        const passwdCode = stringField(changed, "errorCode");
        if (passwdCode === "ACCOUNT_DOES_NOT_EXIST") {
          throw new ErgoRejected(
            "ACCOUNT_DOES_NOT_EXIST from /v1/ns/passwd (the name is reserved but has no account to reset)",
          );
        }
        throw new ErgoRejected(apiFailure("passwd", passwdCode, stringField(changed, "error")));
      }
      this.log.info({ account }, "ergo account password reset");
    });
  }

  checkCredentials(account: string, password: string): Promise<boolean> {
    return this.guard("checkCredentials", [password], async () => {
      checkName("account", account);
      if (password === "") throw new ErgoRejected("the password is empty");
      const result = await this.post("v1/check_auth", {
        accountName: account,
        passphrase: password,
      });
      const ok = result.success === true;
      this.log.debug({ account, ok }, "ergo check_auth");
      return ok;
    });
  }

  whois(nick: string): Promise<string | null> {
    return this.guard("whois", [], async () => {
      checkName("nick", nick);
      const result = await this.post("v1/whois", { nickname: nick });
      if (result.success !== true) {
        throw new ErgoRejected(
          apiFailure("whois", stringField(result, "errorCode"), stringField(result, "error")),
        );
      }
      const account = result.present === true ? stringField(result, "account") : undefined;
      const loggedIn = account !== undefined && account !== "" && account !== "*" ? account : null;
      this.log.debug({ nick, account: loggedIn }, "ergo whois");
      return loggedIn;
    });
  }

  async unregisterAccount(account: string): Promise<void> {
    // Checked at every tag up to v2.19.0 and on master (irc/api.go): no unregister or erase
    // endpoint, so this goes through the oper session when there is one.
    if (this.options.operSession) return this.options.operSession.unregisterAccount(account);
    return this.guard("unregisterAccount", [], async () => {
      checkName("account", account);
      throw new ErgoRejected(
        "ergo's HTTP API cannot erase an account (no such endpoint); set ERGO_IRC_URL, ERGO_OPER_NAME and ERGO_OPER_PASSWORD as well so the worker erases it as oper",
      );
    });
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.options.operSession?.close();
  }

  private async post(path: string, body: Json): Promise<Json> {
    if (this.closing.signal.aborted) throw new ErgoUnavailable("the ergo admin client is closed");
    const url = new URL(path, this.base);
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]);
    const endpoint = `/${path}`;
    try {
      const response = await this.fetchImpl(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.options.token}`,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(body),
        signal,
      });
      const text = await response.text();
      if (response.status === 401 || response.status === 403) {
        throw new OperAuthFailed(
          `ergo's HTTP API refused the bearer token (HTTP ${response.status} on ${endpoint}); check ERGO_API_TOKEN`,
        );
      }
      if (response.status !== 200) {
        const hint =
          response.status === 404 ? " (ergo too old for this endpoint, or API disabled?)" : "";
        throw new ErgoUnavailable(
          `ergo's HTTP API answered HTTP ${response.status} on ${endpoint}${hint}: ${text.trim().slice(0, 200)}`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ErgoUnavailable(`ergo's HTTP API sent a body that is not JSON on ${endpoint}`);
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new ErgoUnavailable(`ergo's HTTP API sent an unexpected JSON value on ${endpoint}`);
      }
      return parsed as Json;
    } catch (err) {
      if (err instanceof OperAuthFailed || err instanceof ErgoUnavailable) throw err;
      if (this.closing.signal.aborted)
        throw new ErgoUnavailable("the ergo admin client was closed");
      if (signal.aborted) {
        throw new ErgoTimeout(
          `ergo's HTTP API did not answer ${endpoint} within ${this.timeoutMs} ms`,
        );
      }
      throw new ErgoUnavailable(
        `cannot reach ergo's HTTP API for ${endpoint}: ${describeFetchError(err)}`,
      );
    }
  }

  private async guard<T>(op: string, secrets: string[], fn: () => Promise<T>): Promise<T> {
    const release = this.scrubber.hold(...secrets);
    try {
      return await fn();
    } catch (err) {
      const safe = sanitizeError(err, this.scrubber);
      this.log.debug({ op, err: safe }, "ergo admin call failed");
      throw safe;
    } finally {
      release();
    }
  }
}

function stringField(body: Json, key: string): string | undefined {
  const v = body[key];
  return typeof v === "string" ? v : undefined;
}

function apiFailure(endpoint: string, code: string | undefined, text: string | undefined): string {
  return `${endpoint} failed: ${code ?? "no errorCode"}${text ? ` (${text})` : ""}`;
}

/** fetch() hides the cause (ECONNREFUSED…) one level down. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code} ${cause.message}` : cause.message;
  }
  return err.message;
}
