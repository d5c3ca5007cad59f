/**
 * The `KeycloakAdmin` port over Keycloak's admin REST API, as a small fetch client.
 *
 * Why not `@keycloak/keycloak-admin-client` (26.x): it pulls six preview-versioned Kiota
 * packages for the five calls we make, leaves token renewal to the caller (`auth()` again,
 * no refetch on 401), has no per-call deadline, and its errors carry whole responses that we
 * would have to scrub. Here every call has a deadline, one typed error and a redacted message.
 * No logging inside: callers decide what to log from `KeycloakAdminError.kind`/`message`.
 */
import { KeycloakAdminError, type KeycloakAdmin, type KeycloakUserRepresentation } from "./admin";
import { errorFor, exchange, type Answer, type FetchFn } from "./http";
import { realmEndpoints } from "./realm-endpoints";
import { ServiceAccountToken } from "./service-account-token";
import type { KeycloakUserState } from "./user-state";

export const DEFAULT_KEYCLOAK_TIMEOUT_MS = 5_000;

export interface KeycloakAdminOptions {
  /** The realm's OIDC issuer, `https://kc.example/realms/<realm>` (`KEYCLOAK_ISSUER`). */
  issuer: string;
  /** Service-account client (`KEYCLOAK_ADMIN_CLIENT_ID` / `_SECRET`). */
  clientId: string;
  clientSecret: string;
  /** Deadline of each HTTP exchange, body included (default 5000). */
  timeoutMs?: number;
  /** Default: the global fetch. */
  fetch?: FetchFn;
  /**
   * Query of `execute-actions-email`: where the link in the email leads back to after the
   * action (`client_id` + `redirect_uri`) and how long it stays valid (`lifespan`, seconds).
   */
  actionsEmail?: { clientId?: string; redirectUri?: string; lifespanS?: number };
}

type Method = "GET" | "PUT" | "DELETE";

export function createKeycloakAdmin(options: KeycloakAdminOptions): KeycloakAdmin {
  const { adminBase, tokenEndpoint } = realmEndpoints(options.issuer);
  const timeoutMs = options.timeoutMs ?? DEFAULT_KEYCLOAK_TIMEOUT_MS;
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (!options.clientId || !options.clientSecret)
    throw new Error("Keycloak admin client needs a client id and secret");

  const redact = (text: string): string => {
    let out = text.replaceAll(options.clientSecret, "[redacted]");
    const token = tokens.current;
    if (token) out = out.replaceAll(token, "[redacted]");
    return out;
  };
  const tokens: ServiceAccountToken = new ServiceAccountToken({
    tokenEndpoint,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    timeoutMs,
    fetch: fetchFn,
    redact,
  });

  /**
   * One admin call with the service account's token; a 401 means Keycloak no longer takes that
   * token (revoked, expired early, realm keys rotated), so it is refetched and the call retried
   * once. `what` names the call without ids of secrets: "GET /users/{id}".
   */
  async function call(method: Method, path: string, what: string, body?: unknown) {
    let answer: Answer | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = await tokens.get();
      answer = await exchange(
        fetchFn,
        `${adminBase}${path}`,
        {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        },
        timeoutMs,
        what,
      );
      if (answer.status !== 401) break;
      tokens.invalidate(token);
    }
    return answer!;
  }

  const ok = (answer: Answer, what: string) => {
    if (answer.status < 200 || answer.status >= 300) throw errorFor(answer, what, redact);
  };
  const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

  async function getUser(id: string): Promise<KeycloakUserRepresentation | null> {
    const what = "GET /users/{id}";
    const answer = await call("GET", userPath(id), what);
    if (answer.status === 404) return null;
    ok(answer, what);
    try {
      const user = JSON.parse(answer.text) as KeycloakUserRepresentation;
      if (typeof user?.id !== "string" || typeof user.username !== "string") throw new Error();
      return user;
    } catch {
      throw new KeycloakAdminError("unexpected", `Keycloak ${what}: not a user representation`);
    }
  }

  async function executeActionsEmail(id: string, actions: readonly string[]): Promise<void> {
    const what = "PUT /users/{id}/execute-actions-email";
    const query = new URLSearchParams();
    const email = options.actionsEmail;
    if (email?.clientId) query.set("client_id", email.clientId);
    if (email?.redirectUri) query.set("redirect_uri", email.redirectUri);
    if (email?.lifespanS !== undefined) query.set("lifespan", String(email.lifespanS));
    const qs = query.size > 0 ? `?${query}` : "";
    ok(await call("PUT", `${userPath(id)}/execute-actions-email${qs}`, what, [...actions]), what);
  }

  return {
    getUser,

    async pushUserState(id: string, state: KeycloakUserState): Promise<void> {
      const current = await getUser(id);
      if (!current) throw new KeycloakAdminError("not_found", "Keycloak has no such user", 404);
      // Keycloak 24.0.4+ treats a PUT that carries `attributes` as the whole user profile: the
      // attribute map AND the root attributes (username, email, firstName, lastName) are
      // replaced, an omitted email is cleared and an omitted username is a 400. So all four go
      // back as read. `enabled`, `emailVerified` and required actions stay out: omitted, they
      // are kept, and a PUT of what we read could undo an admin's change made in between.
      const what = "PUT /users/{id}";
      const body = {
        username: current.username,
        ...(current.email !== undefined ? { email: current.email } : {}),
        firstName: state.firstName,
        lastName: state.lastName,
        attributes: { ...current.attributes, ...state.attributes },
      };
      ok(await call("PUT", userPath(id), what, body), what);
    },

    async changeEmail(id: string, email: string): Promise<void> {
      // No `attributes` in this PUT, so Keycloak keeps the attribute map and the other root
      // fields; it never resets `emailVerified` on its own, hence `false` here.
      const what = "PUT /users/{id} (email)";
      ok(await call("PUT", userPath(id), what, { email, emailVerified: false }), what);
      await executeActionsEmail(id, ["VERIFY_EMAIL"]);
    },

    executeActionsEmail,

    async deleteUser(id: string): Promise<void> {
      const what = "DELETE /users/{id}";
      const answer = await call("DELETE", userPath(id), what);
      if (answer.status === 404) return;
      ok(answer, what);
    },
  };
}
