import { createHash, timingSafeEqual } from "node:crypto";

/** Attributes as Keycloak stores them: every value is a list of strings. */
export type UserAttributes = Record<string, string[]>;

/** A realm user as the stand-in holds it (never includes the password). */
export interface KeycloakUser {
  readonly id: string;
  readonly username: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly emailVerified: boolean;
  readonly enabled: boolean;
  readonly createdTimestamp: number;
  readonly attributes: UserAttributes;
  /** Realm roles assigned to the user (the realm's default roles are added in tokens). */
  readonly realmRoles: readonly string[];
  /** Client roles assigned to the user, by client id (defaults are added in tokens). */
  readonly clientRoles: Readonly<Record<string, readonly string[]>>;
  /** Set for the user Keycloak creates behind a client's service account. */
  readonly serviceAccountClientId?: string;
}

export interface UserInput {
  username: string;
  password?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  emailVerified?: boolean;
  enabled?: boolean;
  realmRoles?: string[];
  clientRoles?: Record<string, string[]>;
  attributes?: UserAttributes;
  /** Fixed id; by default a UUID derived from realm and username, stable across restarts. */
  id?: string;
}

/** Keycloak's default composite for every user: `default-roles-<realm>`, `offline_access`, `uma_authorization`. */
export function defaultRealmRoles(realm: string): string[] {
  return [`default-roles-${realm}`, "offline_access", "uma_authorization"];
}

/** The `account` client roles every Keycloak user gets through the default roles. */
export const DEFAULT_ACCOUNT_ROLES: readonly string[] = [
  "manage-account",
  "manage-account-links",
  "view-profile",
];

/** Name-based UUID (version 5 layout, SHA-1) so seeded users keep their id across restarts. */
export function stableUserId(realm: string, username: string): string {
  const hash = createHash("sha1")
    .update(`keycloak-standin:${realm}:${username.toLowerCase()}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface StoredUser {
  id: string;
  username: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  emailVerified: boolean;
  enabled: boolean;
  createdTimestamp: number;
  attributes: UserAttributes;
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  serviceAccountClientId?: string;
}

function snapshot(user: StoredUser): KeycloakUser {
  return structuredClone(user);
}

function normalise(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.toLowerCase() : undefined;
}

export class DuplicateUserError extends Error {
  constructor() {
    super("User exists with same username or email");
    this.name = "DuplicateUserError";
  }
}

/** In-memory realm users with Keycloak's lowercase username/email uniqueness. */
export class UserStore {
  readonly #realm: string;
  readonly #users = new Map<string, StoredUser>();
  readonly #passwords = new Map<string, string>();

  constructor(realm: string) {
    this.#realm = realm;
  }

  get realm(): string {
    return this.#realm;
  }

  add(input: UserInput, serviceAccountClientId?: string): KeycloakUser {
    const username = normalise(input.username);
    if (!username) throw new Error("username is required");
    const email = normalise(input.email);
    if (this.#conflicts(username, email)) throw new DuplicateUserError();
    const id = input.id ?? stableUserId(this.#realm, username);
    if (this.#users.has(id)) throw new Error(`user id ${id} already exists`);
    const user: StoredUser = {
      id,
      username,
      ...(email ? { email } : {}),
      ...(input.firstName ? { firstName: input.firstName } : {}),
      ...(input.lastName ? { lastName: input.lastName } : {}),
      emailVerified: input.emailVerified ?? Boolean(email),
      enabled: input.enabled ?? true,
      createdTimestamp: Date.now(),
      attributes: structuredClone(input.attributes ?? {}),
      realmRoles: [...new Set(input.realmRoles ?? [])],
      clientRoles: structuredClone(input.clientRoles ?? {}),
      ...(serviceAccountClientId ? { serviceAccountClientId } : {}),
    };
    this.#users.set(id, user);
    if (input.password !== undefined) this.#passwords.set(id, input.password);
    return snapshot(user);
  }

  byId(id: string): KeycloakUser | undefined {
    const user = this.#users.get(id);
    return user && snapshot(user);
  }

  byUsername(username: string): KeycloakUser | undefined {
    const wanted = normalise(username);
    for (const user of this.#users.values()) if (user.username === wanted) return snapshot(user);
    return undefined;
  }

  serviceAccountFor(clientId: string): KeycloakUser | undefined {
    for (const user of this.#users.values())
      if (user.serviceAccountClientId === clientId) return snapshot(user);
    return undefined;
  }

  /** Login form check: username or email, case-insensitive; service accounts cannot log in. */
  checkPassword(login: string, password: string): KeycloakUser | undefined {
    const wanted = normalise(login);
    if (!wanted) return undefined;
    for (const user of this.#users.values()) {
      if (user.serviceAccountClientId) continue;
      if (user.username !== wanted && user.email !== wanted) continue;
      const stored = this.#passwords.get(user.id);
      if (stored === undefined) return undefined;
      const a = Buffer.from(stored, "utf8");
      const b = Buffer.from(password, "utf8");
      return a.length === b.length && timingSafeEqual(a, b) ? snapshot(user) : undefined;
    }
    return undefined;
  }

  /** Users visible to the admin search (Keycloak leaves service-account users out). */
  listPeople(): KeycloakUser[] {
    return [...this.#users.values()]
      .filter((u) => !u.serviceAccountClientId)
      .sort((a, b) => a.username.localeCompare(b.username))
      .map(snapshot);
  }

  /** Replace the stored record of `id` by `next` (fields already validated by the caller). */
  replace(
    id: string,
    next: Omit<KeycloakUser, "id" | "createdTimestamp" | "serviceAccountClientId">,
  ): KeycloakUser {
    const current = this.#users.get(id);
    if (!current) throw new Error(`no user ${id}`);
    const username = normalise(next.username);
    if (!username) throw new Error("username is required");
    const email = normalise(next.email);
    if (this.#conflicts(username, email, id)) throw new DuplicateUserError();
    const updated: StoredUser = {
      id,
      createdTimestamp: current.createdTimestamp,
      username,
      ...(email ? { email } : {}),
      ...(next.firstName ? { firstName: next.firstName } : {}),
      ...(next.lastName ? { lastName: next.lastName } : {}),
      emailVerified: next.emailVerified,
      enabled: next.enabled,
      attributes: structuredClone(next.attributes),
      realmRoles: [...next.realmRoles],
      clientRoles: structuredClone(next.clientRoles) as Record<string, string[]>,
      ...(current.serviceAccountClientId
        ? { serviceAccountClientId: current.serviceAccountClientId }
        : {}),
    };
    this.#users.set(id, updated);
    return snapshot(updated);
  }

  /** Delete user `id` and their password; false when there was no such user. */
  remove(id: string): boolean {
    this.#passwords.delete(id);
    return this.#users.delete(id);
  }

  #conflicts(username: string, email: string | undefined, exceptId?: string): boolean {
    for (const user of this.#users.values()) {
      if (user.id === exceptId) continue;
      if (user.username === username) return true;
      if (email && user.email === email) return true;
    }
    return false;
  }
}

/** Realm roles as they appear in `realm_access.roles` of an access token. */
export function effectiveRealmRoles(realm: string, user: KeycloakUser): string[] {
  return [...new Set([...defaultRealmRoles(realm), ...user.realmRoles])];
}

/** Client roles as they appear in `resource_access` of an access token. */
export function effectiveClientRoles(user: KeycloakUser): Record<string, { roles: string[] }> {
  const merged: Record<string, Set<string>> = { account: new Set(DEFAULT_ACCOUNT_ROLES) };
  for (const [clientId, roles] of Object.entries(user.clientRoles)) {
    const set = (merged[clientId] ??= new Set());
    for (const role of roles) set.add(role);
  }
  return Object.fromEntries(
    Object.entries(merged).map(([clientId, roles]) => [clientId, { roles: [...roles] }]),
  );
}

/** `name` as Keycloak builds it: first and last name joined, absent when both are. */
export function displayName(user: KeycloakUser): string | undefined {
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ");
  return name || undefined;
}
