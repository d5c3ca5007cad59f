import type { JWK } from "oidc-provider";
import type { ProtocolMapperConfig } from "./protocol-mappers";
import type { SentActionsEmail } from "./records";
import type { UserProfileConfig } from "./user-profile";
import type { KeycloakUser, UserInput } from "./users";

/** A confidential OIDC client that signs users in (authorization code + PKCE). */
export interface KeycloakClientConfig {
  clientId: string;
  clientSecret: string;
  /**
   * Allowed `redirect_uri` values. Exact match, or a prefix match when the entry ends in `*`
   * (Keycloak's wildcard), e.g. `http://localhost:3000/*`.
   */
  redirectUris: string[];
  /** Allowed `post_logout_redirect_uri` values; same matching rules as `redirectUris`. */
  postLogoutRedirectUris?: string[];
  /** Reject authorization requests without an S256 `code_challenge` (default true). */
  requirePkce?: boolean;
  /** Shown on the login page. */
  name?: string;
  /**
   * Keycloak's protocol mappers of this client (User Attribute mappers), e.g. `plan` and
   * `content_expires` into the ID token (`accountPortalClient` adds those two).
   */
  protocolMappers?: ProtocolMapperConfig[];
}

/** A client with "Service accounts roles" enabled, for the `client_credentials` grant. */
export interface KeycloakServiceAccountConfig {
  clientId: string;
  clientSecret: string;
  /**
   * Client roles of `realm-management` granted to the service account
   * (default: `view-users`, `query-users`, `manage-users`).
   */
  realmManagementRoles?: string[];
}

export interface KeycloakStandinOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. Fix it to keep the issuer stable. */
  port?: number;
  /** Realm name; the issuer is `http://127.0.0.1:<port>/realms/<realm>` (default `irc-now`). */
  realm?: string;
  /** Login clients (default: `account-portal` for next-auth on http://localhost:3000). */
  clients?: KeycloakClientConfig[];
  /** Service-account clients (default: `irc-now-admin-api` with view/query/manage-users). */
  serviceAccounts?: KeycloakServiceAccountConfig[];
  /** Realm users (default: `alice`, and `admin` with realm role `irc-now-admin`). */
  users?: UserInput[];
  /** Lifetime of access and ID tokens in seconds (Keycloak's default: 300). */
  accessTokenLifespanSeconds?: number;
  /**
   * The realm's user profile (Keycloak 24+ `UPConfig`, also served and replaced at
   * `/admin/realms/<realm>/users/profile`). Default: `ircNowUserProfile()` (declares `plan`
   * and `content_expires`, admin-edit only) with `unmanagedAttributePolicy: "ENABLED"`, so
   * tests may store other attributes too; pass `ircNowUserProfile()` itself for the
   * production realm, where undeclared attributes are silently dropped.
   */
  userProfile?: UserProfileConfig;
  /**
   * Shorthand kept for older tests, used only without `userProfile`: `DISABLED` is Keycloak's
   * default profile declaring just `managedAttributes` (admin-editable), every other attribute
   * silently dropped by the admin API (still 2xx); `ENABLED` keeps them.
   */
  unmanagedAttributePolicy?: "ENABLED" | "DISABLED";
  /** Attributes declared in the realm's user profile (only used with `DISABLED`). */
  managedAttributes?: string[];
  /** Private RSA JWK (with `kid`) to sign with; default: generated at start. */
  signingJwk?: JWK;
  /** Keys for signed session cookies; default: generated at start. */
  cookieKeys?: string[];
  /** Where errors and notable events go (default: stderr). */
  log?: (line: string) => void;
}

/** A seeded login, for printing in `npm run dev` and for tests. */
export interface SeededLogin {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly email?: string;
  readonly realmRoles: readonly string[];
}

export interface KeycloakStandin {
  /** `http://127.0.0.1:<port>/realms/<realm>` — use as `KEYCLOAK_ISSUER`. */
  readonly issuer: string;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly port: number;
  readonly realm: string;
  /** `http://127.0.0.1:<port>/admin/realms/<realm>` */
  readonly adminUrl: string;
  readonly clients: readonly KeycloakClientConfig[];
  readonly serviceAccounts: readonly KeycloakServiceAccountConfig[];
  /** Seeded users that have a password, with it. */
  readonly users: readonly SeededLogin[];
  /** Current state of a user (by username, case-insensitive, or id). */
  getUser(usernameOrId: string): KeycloakUser | undefined;
  /** Add a realm user; throws when the username or email is taken. */
  addUser(input: UserInput): KeycloakUser;
  /** The realm's user profile as `GET /users/profile` serves it now. */
  userProfile(): UserProfileConfig;
  /**
   * Every `execute-actions-email` the admin API accepted (oldest first), or only those sent
   * to `username`. Also over HTTP (stand-in only): `GET /_standin/emails?username=…`.
   */
  sentEmails(username?: string): SentActionsEmail[];
  /**
   * The claims of every ID token issued to `username` by the token endpoint (oldest first).
   * Also over HTTP (stand-in only): `GET /_standin/id-token-claims?username=…`.
   */
  issuedIdTokenClaims(username: string): Record<string, unknown>[];
  /**
   * The realm's "not before" set to now: every access token issued so far (service-account
   * tokens included) is refused with 401 by the admin API and userinfo.
   */
  revokeAccessTokens(): void;
  /**
   * A real outage: stops listening and destroys every open connection (requests in flight
   * fail as on a crash, new connections are refused) while users and sessions are kept.
   * `restore()` listens again on the same port.
   */
  outage(): Promise<{ restore(): Promise<void> }>;
  /** Close the server and every open connection, and drop all sessions. */
  stop(): Promise<void>;
}
