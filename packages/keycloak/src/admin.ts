import type { KeycloakUserState } from "./user-state";

/** A user as `GET /admin/realms/{realm}/users/{id}` returns it (the fields the portal reads). */
export interface KeycloakUserRepresentation {
  id: string;
  username: string;
  email?: string;
  emailVerified?: boolean;
  firstName?: string;
  lastName?: string;
  enabled?: boolean;
  attributes?: Record<string, string[]>;
  [key: string]: unknown;
}

/**
 * Why a Keycloak admin call failed. `unavailable`: no answer, a timeout or a 5xx (retry later);
 * `conflict`: 409, duplicate username or email; `not_found`: 404; `unauthorized`: the service
 * account's credentials or roles were refused (401/403); `bad_request`: 400; `unexpected`:
 * anything else. Messages carry the status and Keycloak's `errorMessage`, never a secret or token.
 */
export type KeycloakErrorKind =
  "unavailable" | "conflict" | "not_found" | "unauthorized" | "bad_request" | "unexpected";

export class KeycloakAdminError extends Error {
  override readonly name = "KeycloakAdminError";
  constructor(
    readonly kind: KeycloakErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The admin REST calls the portal makes (service account, client-credentials grant). */
export interface KeycloakAdmin {
  /** null when Keycloak has no such user. */
  getUser(id: string): Promise<KeycloakUserRepresentation | null>;
  /**
   * GET the user, merge `state` (the portal's attributes replace theirs, every other attribute
   * is kept; first and last name set), PUT the whole representation including `username`
   * (Keycloak 24.0.4+ replaces the whole attribute map). `not_found` when the user is gone.
   */
  pushUserState(id: string, state: KeycloakUserState): Promise<void>;
  /**
   * Sets the email with `emailVerified: false` (Keycloak leaves it as it was otherwise), then
   * sends the verify-email action. `conflict` when another user has that email.
   */
  changeEmail(id: string, email: string): Promise<void>;
  /** `PUT /users/{id}/execute-actions-email` with e.g. `["VERIFY_EMAIL"]`. */
  executeActionsEmail(id: string, actions: readonly string[]): Promise<void>;
  /** Deletes the user; a user already gone counts as deleted (idempotent). */
  deleteUser(id: string): Promise<void>;
}
