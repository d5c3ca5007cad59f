import { KeycloakAdminError } from "./admin";
import { errorFor, exchange, type FetchFn } from "./http";

/** A token is refetched when less than this much of its lifetime is left. */
export const TOKEN_EXPIRY_MARGIN_MS = 10_000;

export interface ServiceAccountTokenOptions {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  fetch: FetchFn;
  redact: (text: string) => string;
  now?: () => number;
}

/**
 * The service account's access token (client-credentials grant, client authenticated with
 * HTTP Basic as RFC 6749 §2.3.1 says: id and secret form-urlencoded first). Cached until
 * shortly before `expires_in` runs out; concurrent callers share one token request.
 */
export class ServiceAccountToken {
  readonly #options: ServiceAccountTokenOptions;
  readonly #now: () => number;
  #cached: { token: string; refreshAt: number } | undefined;
  #pending: Promise<string> | undefined;

  constructor(options: ServiceAccountTokenOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** A token that Keycloak should still accept. */
  async get(): Promise<string> {
    const cached = this.#cached;
    if (cached && this.#now() < cached.refreshAt) return cached.token;
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forget `token` (Keycloak refused it: revoked, expired early, keys rotated). */
  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  /** The token being used now, for redacting error texts. */
  get current(): string | undefined {
    return this.#cached?.token;
  }

  async #fetch(): Promise<string> {
    const { tokenEndpoint, clientId, clientSecret, timeoutMs, redact } = this.#options;
    const what = "token request (client_credentials)";
    const basic = Buffer.from(
      `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`,
    ).toString("base64");
    const started = this.#now();
    const answer = await exchange(
      this.#options.fetch,
      tokenEndpoint,
      {
        method: "POST",
        headers: {
          authorization: `Basic ${basic}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams({ grant_type: "client_credentials" }).toString(),
      },
      timeoutMs,
      what,
    );
    if (answer.status !== 200) {
      // OAuth answers a bad client secret with 400/401 invalid_client; either way it's ours.
      const error = errorFor(answer, what, redact);
      if (answer.status === 400 && /invalid_client|unauthorized_client/.test(answer.text))
        throw new KeycloakAdminError("unauthorized", error.message, answer.status);
      throw error;
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(answer.text) as typeof body;
    } catch {
      throw new KeycloakAdminError("unexpected", `Keycloak ${what}: answer is not JSON`, 200);
    }
    if (typeof body.access_token !== "string" || body.access_token === "")
      throw new KeycloakAdminError("unexpected", `Keycloak ${what}: no access_token`, 200);
    const lifetimeMs = typeof body.expires_in === "number" ? body.expires_in * 1000 : 60_000;
    this.#cached = {
      token: body.access_token,
      refreshAt: started + lifetimeMs - TOKEN_EXPIRY_MARGIN_MS,
    };
    return body.access_token;
  }
}
