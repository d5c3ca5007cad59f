import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken, readBody, sendEmpty, sendJson } from "./http";
import type { StandinRecords } from "./records";
import { matchesRegisteredUri } from "./redirect-uris";
import { clientRolesIn, TokenError, verifyAccessToken, type TokenContext } from "./tokens";
import type { KeycloakClientConfig } from "./types";
import {
  adminAccess,
  parseUserProfileConfig,
  ROOT_ATTRIBUTES,
  validateAttribute,
  type UserProfileConfig,
} from "./user-profile";
import {
  defaultRealmRoles,
  DuplicateUserError,
  type KeycloakUser,
  type UserAttributes,
} from "./users";

export interface AdminApiContext extends TokenContext {
  /** The realm's user profile; `PUT /users/profile` replaces `current`. */
  readonly profile: { current: UserProfileConfig };
  readonly loginClients: readonly KeycloakClientConfig[];
  readonly records: StandinRecords;
}

type Permission = "query" | "view" | "manage" | "any" | "manage-realm";
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Keycloak's fine-grained admin permissions from `realm-management` client roles. */
function allowed(roles: readonly string[], permission: Permission): boolean {
  const has = (role: string) => roles.includes(role) || roles.includes("realm-admin");
  switch (permission) {
    case "manage":
      return has("manage-users");
    case "view":
      return has("view-users") || has("manage-users");
    case "query":
      return has("query-users") || has("view-users") || has("manage-users");
    case "manage-realm":
      return has("manage-realm");
    case "any":
      return roles.length > 0;
  }
}

/**
 * The user representation of `GET /admin/realms/{realm}/users/{id}` (null fields left out;
 * attributes the user profile hides from admins left out too).
 */
export function userRepresentation(
  ctx: AdminApiContext,
  user: KeycloakUser,
  brief = false,
): Record<string, unknown> {
  const rep: Record<string, unknown> = {
    id: user.id,
    username: user.username,
    ...(user.firstName ? { firstName: user.firstName } : {}),
    ...(user.lastName ? { lastName: user.lastName } : {}),
    ...(user.email ? { email: user.email } : {}),
    emailVerified: user.emailVerified,
    createdTimestamp: user.createdTimestamp,
    enabled: user.enabled,
    totp: false,
  };
  const visible = Object.entries(user.attributes).filter(
    ([name]) => adminAccess(ctx.profile.current, name) !== "hidden",
  );
  if (!brief && visible.length > 0) rep.attributes = structuredClone(Object.fromEntries(visible));
  if (!brief)
    Object.assign(rep, { disableableCredentialTypes: [], requiredActions: [], notBefore: 0 });
  return rep;
}

function matches(value: string | undefined, wanted: string, exact: boolean): boolean {
  if (value === undefined) return false;
  const a = value.toLowerCase();
  const b = wanted.toLowerCase();
  return exact ? a === b : a.includes(b);
}

/** `q=key:value key2:value2` attribute search (exact values). */
function parseQ(q: string): [string, string][] {
  return q
    .split(" ")
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf(":");
      return i === -1 ? [pair, ""] : [pair.slice(0, i), pair.slice(i + 1)];
    });
}

export function searchUsers(all: KeycloakUser[], query: URLSearchParams): KeycloakUser[] {
  const exact = query.get("exact") === "true";
  const fields = ["username", "email", "firstName", "lastName"] as const;
  let found = all;
  for (const field of fields) {
    const wanted = query.get(field);
    if (wanted !== null) found = found.filter((u) => matches(u[field], wanted, exact));
  }
  const search = query.get("search");
  if (search !== null && search !== "*" && search !== "") {
    const term = search.replaceAll("*", "");
    found = found.filter((u) => fields.some((f) => matches(u[f], term, false)));
  }
  const enabled = query.get("enabled");
  if (enabled !== null) found = found.filter((u) => String(u.enabled) === enabled);
  const q = query.get("q");
  if (q) {
    const pairs = parseQ(q);
    found = found.filter((u) => pairs.every(([key, value]) => u.attributes[key]?.includes(value)));
  }
  return found;
}

function paginate<T>(items: T[], query: URLSearchParams): T[] {
  const first = Math.max(0, Number.parseInt(query.get("first") ?? "0", 10) || 0);
  const maxRaw = Number.parseInt(query.get("max") ?? "100", 10);
  const max = Number.isFinite(maxRaw) && maxRaw >= 0 ? maxRaw : 100;
  return items.slice(first, first + max);
}

type UpdateResult =
  | { ok: true; user: Omit<KeycloakUser, "id" | "createdTimestamp"> }
  | { ok: false; status: number; body: unknown };

function badRequest(message: string): UpdateResult {
  return { ok: false, status: 400, body: { errorMessage: message } };
}

function optionalString(rep: Record<string, unknown>, key: string): string | undefined | false {
  const value = rep[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : false;
}

/**
 * `PUT /users/{id}` semantics recorded in facts/keycloak.md and Keycloak 24.0.4's upgrade notes:
 * omitted top-level fields are kept when `attributes` is omitted; `attributes` present is the
 * WHOLE user profile: the attribute map is replaced, it requires `username`, and omitted root
 * attributes `email`, `firstName`, `lastName` are cleared. The realm's user profile decides per
 * attribute: admin-editable ones are validated and set; declared ones admins may not edit are
 * a 400 `error-user-attribute-read-only` when changed; undeclared ones are silently ignored
 * (stored values stay) unless `unmanagedAttributePolicy` is `ENABLED`/`ADMIN_EDIT`. Changing
 * `email` leaves `emailVerified` alone.
 */
export function applyUserUpdate(
  ctx: AdminApiContext,
  current: KeycloakUser,
  rep: Record<string, unknown>,
): UpdateResult {
  const profile = ctx.profile.current;
  let attributes: UserAttributes = current.attributes;
  const wholeProfile = rep.attributes !== undefined && rep.attributes !== null;
  if (wholeProfile) {
    if (typeof rep.username !== "string" || rep.username.trim() === "")
      return badRequest("User name is missing");
    if (typeof rep.attributes !== "object" || Array.isArray(rep.attributes))
      return badRequest("Invalid attributes");
    const sent = rep.attributes as Record<string, unknown>;
    attributes = {};
    // What the admin may not change stays as stored.
    for (const [name, values] of Object.entries(current.attributes))
      if (adminAccess(profile, name) !== "edit") attributes[name] = [...values];
    for (const [name, values] of Object.entries(sent)) {
      if ((ROOT_ATTRIBUTES as readonly string[]).includes(name)) continue;
      if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) {
        return badRequest(`Attribute ${name} must be a list of strings`);
      }
      const declared = profile.attributes.find((a) => a.name === name);
      const access = adminAccess(profile, name);
      if (access !== "edit") {
        const stored = current.attributes[name] ?? [];
        const changed = JSON.stringify(stored) !== JSON.stringify(values);
        if (declared && changed) return { ok: false, status: 400, body: readOnlyError(name) };
        continue;
      }
      const invalid = validateAttribute(declared, name, values as string[]);
      if (invalid) return { ok: false, status: 400, body: invalid };
      if (values.length > 0) attributes[name] = [...(values as string[])];
    }
  }
  const next: Mutable<KeycloakUser> = { ...current, attributes };
  for (const key of ["username", "email", "firstName", "lastName"] as const) {
    const value = optionalString(rep, key);
    if (value === false) return badRequest(`Invalid ${key}`);
    if (value === undefined) {
      if (wholeProfile && key !== "username") next[key] = undefined;
      continue;
    }
    if (key === "username") {
      if (value.trim() === "") return badRequest("User name is missing");
      next.username = value;
    } else {
      next[key] = value || undefined;
    }
  }
  for (const key of ["enabled", "emailVerified"] as const) {
    const value = rep[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "boolean") return badRequest(`Invalid ${key}`);
    next[key] = value;
  }
  return { ok: true, user: next };
}

function readOnlyError(name: string) {
  return { field: name, errorMessage: "error-user-attribute-read-only", params: [name] };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Keycloak gives every role a UUID; the stand-in derives a stable one from realm and name. */
export function roleId(realm: string, name: string): string {
  const hex = createHash("sha1").update(`keycloak-standin-role:${realm}:${name}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Realm roles that exist: the default composite's and every role some user holds. */
function realmRoleNames(ctx: AdminApiContext): Set<string> {
  const names = new Set(defaultRealmRoles(ctx.realm));
  for (const user of ctx.users.listPeople()) for (const role of user.realmRoles) names.add(role);
  return names;
}

/** `RoleRepresentation` of a realm role. */
function roleRepresentation(ctx: AdminApiContext, name: string): Record<string, unknown> {
  return {
    id: roleId(ctx.realm, name),
    name,
    composite: name === `default-roles-${ctx.realm}`,
    clientRole: false,
    containerId: ctx.realm,
  };
}

/**
 * `POST`/`DELETE /users/{id}/role-mappings/realm` with a JSON array of role representations.
 * As Keycloak's RoleMapperResource: each role is looked up by name and must carry that role's
 * id (404 "Role not found" otherwise); 204 on success.
 */
async function changeRealmRoleMappings(
  ctx: AdminApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: KeycloakUser,
  add: boolean,
): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    sendJson(res, 400, { error: "unknown_error" });
    return;
  }
  if (!Array.isArray(body)) {
    sendJson(res, 400, { error: "unknown_error" });
    return;
  }
  const known = realmRoleNames(ctx);
  const names: string[] = [];
  for (const rep of body as { id?: unknown; name?: unknown }[]) {
    const name = typeof rep?.name === "string" ? rep.name : "";
    if (!known.has(name) || rep.id !== roleId(ctx.realm, name)) {
      sendJson(res, 404, { error: "Role not found" });
      return;
    }
    names.push(name);
  }
  const realmRoles = add
    ? [...new Set([...user.realmRoles, ...names])]
    : user.realmRoles.filter((role) => !names.includes(role));
  ctx.users.replace(user.id, { ...user, realmRoles });
  sendEmpty(res, 204);
}

/** Required actions Keycloak enables by default (`execute-actions-email` refuses others). */
const REQUIRED_ACTIONS = new Set([
  "VERIFY_EMAIL",
  "UPDATE_PROFILE",
  "UPDATE_PASSWORD",
  "CONFIGURE_TOTP",
  "TERMS_AND_CONDITIONS",
  "delete_account",
  "update_user_locale",
  "webauthn-register",
  "webauthn-register-passwordless",
]);

/** Keycloak's realm default for admin-generated action tokens (`lifespan`): 12 h. */
const ACTION_TOKEN_LIFESPAN_S = 43_200;

async function readJson(
  req: IncomingMessage,
): Promise<{ ok: true; body: unknown } | { ok: false }> {
  try {
    return { ok: true, body: JSON.parse(await readBody(req)) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * `PUT /users/{id}/execute-actions-email?client_id&redirect_uri&lifespan` with a JSON array of
 * required actions, as Keycloak's UserResource checks it (same error texts); the stand-in
 * records the email instead of sending it.
 */
async function executeActionsEmail(
  ctx: AdminApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  user: KeycloakUser,
  query: URLSearchParams,
): Promise<void> {
  const parsed = await readJson(req);
  const error = (message: string) => sendJson(res, 400, { errorMessage: message });
  if (!parsed.ok || !Array.isArray(parsed.body) || !parsed.body.every((a) => typeof a === "string"))
    return sendJson(res, 400, { error: "unknown_error" });
  const actions = parsed.body as string[];
  if (!user.email) return error("User email missing");
  if (!user.enabled) return error("User is disabled");
  const redirectUri = query.get("redirect_uri") ?? undefined;
  const clientId = query.get("client_id") ?? undefined;
  if (redirectUri !== undefined && clientId === undefined) return error("Client id missing");
  if (clientId !== undefined) {
    const client = ctx.loginClients.find((c) => c.clientId === clientId);
    if (!client) return error("Client doesn't exist");
    const validUri =
      redirectUri === undefined ||
      client.redirectUris.includes(redirectUri) ||
      matchesRegisteredUri(client.redirectUris, redirectUri);
    if (!validUri) return error("Invalid redirect uri.");
  }
  if (actions.some((a) => !REQUIRED_ACTIONS.has(a)))
    return error("Provided invalid required actions");
  const lifespanRaw = query.get("lifespan");
  const lifespan =
    lifespanRaw === null ? ACTION_TOKEN_LIFESPAN_S : Number.parseInt(lifespanRaw, 10);
  ctx.records.emailSent({
    userId: user.id,
    username: user.username,
    email: user.email,
    actions,
    clientId: clientId ?? "account-console",
    ...(redirectUri !== undefined ? { redirectUri } : {}),
    lifespanS: Number.isFinite(lifespan) ? lifespan : ACTION_TOKEN_LIFESPAN_S,
    sentAt: Date.now(),
  });
  sendEmpty(res, 204);
}

/** `GET`/`PUT /users/profile`: the realm's user profile (Keycloak 24 `UPConfig`). */
async function userProfileResource(
  ctx: AdminApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  roles: readonly string[],
): Promise<void> {
  const deny = () => sendJson(res, 403, { error: "HTTP 403 Forbidden" });
  if (req.method === "GET") {
    if (!allowed(roles, "any")) return deny();
    return sendJson(res, 200, ctx.profile.current);
  }
  if (req.method !== "PUT") return sendJson(res, 405, { error: "HTTP 405 Method Not Allowed" });
  if (!allowed(roles, "manage-realm")) return deny();
  const parsed = await readJson(req);
  const config = parsed.ok
    ? parseUserProfileConfig(parsed.body)
    : "Invalid user profile configuration";
  if (typeof config === "string") return sendJson(res, 400, { errorMessage: config });
  ctx.profile.current = config;
  sendJson(res, 200, config);
}

/**
 * Minimal Keycloak admin REST API: user search, read, update (including `enabled`) and delete,
 * `execute-actions-email`, the realm's user profile, realm role lookup, and a user's realm role
 * mappings (list, add, remove).
 */
export async function handleAdminApi(
  ctx: AdminApiContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const parts = url.pathname.split("/").filter(Boolean).map(safeDecode);
  // ["admin", "realms", realm, "users", id?, "role-mappings", "realm"] or [..., "roles", name]
  if (parts[2] !== ctx.realm) {
    sendJson(res, 404, { error: "Realm not found." });
    return;
  }
  const userSub = parts[3] === "users" && parts.length >= 6 ? parts.slice(5).join("/") : undefined;
  const roleMappings = userSub === "role-mappings/realm";
  const actionsEmail = userSub === "execute-actions-email";
  const profile = parts[3] === "users" && parts[4] === "profile" && parts.length === 5;
  const roleByName = parts[3] === "roles" && parts.length === 5;
  if (
    !roleByName &&
    (parts[3] !== "users" || (userSub !== undefined && !roleMappings && !actionsEmail))
  ) {
    sendJson(res, 404, { error: "Unable to find matching target resource method" });
    return;
  }

  const token = bearerToken(req);
  let roles: string[];
  try {
    if (!token) throw new TokenError("no bearer token");
    roles = clientRolesIn(await verifyAccessToken(ctx, token), "realm-management");
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    sendJson(res, 401, { error: "HTTP 401 Unauthorized" });
    return;
  }
  const deny = () => sendJson(res, 403, { error: "HTTP 403 Forbidden" });
  const methodNotAllowed = () => sendJson(res, 405, { error: "HTTP 405 Method Not Allowed" });
  const userNotFound = () => sendJson(res, 404, { error: "User not found" });

  if (profile) return userProfileResource(ctx, req, res, roles);
  if (roleByName) {
    if (req.method !== "GET") return methodNotAllowed();
    if (!allowed(roles, "view")) return deny();
    const name = parts[4]!;
    if (!realmRoleNames(ctx).has(name)) return sendJson(res, 404, { error: "Could not find role" });
    sendJson(res, 200, roleRepresentation(ctx, name));
    return;
  }
  const id = parts[4];
  if (roleMappings) {
    const user = ctx.users.byId(id!);
    if (req.method === "GET") {
      if (!allowed(roles, "view")) return deny();
      if (!user) return userNotFound();
      sendJson(
        res,
        200,
        user.realmRoles.map((name) => roleRepresentation(ctx, name)),
      );
      return;
    }
    if (req.method !== "POST" && req.method !== "DELETE") return methodNotAllowed();
    if (!allowed(roles, "manage")) return deny();
    if (!user) return userNotFound();
    await changeRealmRoleMappings(ctx, req, res, user, req.method === "POST");
    return;
  }
  if (actionsEmail) {
    if (req.method !== "PUT") return methodNotAllowed();
    if (!allowed(roles, "manage")) return deny();
    const user = ctx.users.byId(id!);
    if (!user || user.serviceAccountClientId) return userNotFound();
    await executeActionsEmail(ctx, req, res, user, url.searchParams);
    return;
  }

  if (id === undefined || id === "count") {
    if (req.method !== "GET") return methodNotAllowed();
    if (!allowed(roles, "query")) return deny();
    const found = searchUsers(ctx.users.listPeople(), url.searchParams);
    if (id === "count") {
      sendJson(res, 200, found.length);
      return;
    }
    const brief = url.searchParams.get("briefRepresentation") === "true";
    sendJson(
      res,
      200,
      paginate(found, url.searchParams).map((u) => userRepresentation(ctx, u, brief)),
    );
    return;
  }

  const user = ctx.users.byId(id);
  if (req.method === "GET") {
    if (!allowed(roles, "view")) return deny();
    if (!user) return userNotFound();
    sendJson(res, 200, userRepresentation(ctx, user));
    return;
  }
  if (req.method === "DELETE") {
    if (!allowed(roles, "manage")) return deny();
    if (!user || !ctx.users.remove(user.id)) return userNotFound();
    sendEmpty(res, 204);
    return;
  }
  if (req.method !== "PUT") return methodNotAllowed();
  if (!allowed(roles, "manage")) return deny();
  if (!user) return userNotFound();
  const parsed = await readJson(req);
  const rep = parsed.ok ? parsed.body : undefined;
  if (rep === null || typeof rep !== "object" || Array.isArray(rep)) {
    sendJson(res, 400, { error: "unknown_error" });
    return;
  }
  const result = applyUserUpdate(ctx, user, rep as Record<string, unknown>);
  if (!result.ok) {
    sendJson(res, result.status, result.body);
    return;
  }
  try {
    ctx.users.replace(user.id, result.user);
  } catch (err) {
    if (!(err instanceof DuplicateUserError)) throw err;
    sendJson(res, 409, { errorMessage: err.message });
    return;
  }
  sendEmpty(res, 204);
}
