import type { JWK } from "oidc-provider";
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
   * Keycloak 24+ user profile: with `DISABLED`, attributes not listed in `managedAttributes`
   * are silently dropped by the admin API (still 2xx). Default `ENABLED` (kept).
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
  /** Close the server and every open connection, and drop all sessions. */
  stop(): Promise<void>;
}
