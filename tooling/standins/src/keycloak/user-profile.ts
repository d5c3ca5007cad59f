/**
 * The realm's user profile as Keycloak 24+ serves it at `GET /admin/realms/{realm}/users/profile`
 * (an `UPConfig`), and what it means for the admin API: which attributes an admin may see and
 * edit, which are silently ignored, and the validators the stand-in runs.
 */

export type ProfileRole = "admin" | "user";

/** One validator as Keycloak writes it: `{"options": {"options": ["free", "pro"]}}`. */
export type ProfileValidations = Record<string, Record<string, unknown>>;

/** `UPAttribute` (the fields the stand-in reads; others are kept and served back). */
export interface UserProfileAttribute {
  name: string;
  displayName?: string;
  validations?: ProfileValidations;
  annotations?: Record<string, unknown>;
  permissions?: { view?: ProfileRole[]; edit?: ProfileRole[] };
  required?: { roles?: ProfileRole[]; scopes?: string[] };
  multivalued?: boolean;
  group?: string;
  [key: string]: unknown;
}

/**
 * `UPConfig`. `unmanagedAttributePolicy` absent means Keycloak's default: attributes the
 * profile does not declare are invisible to the admin API and changes to them are dropped.
 */
export interface UserProfileConfig {
  attributes: UserProfileAttribute[];
  groups?: Record<string, unknown>[];
  unmanagedAttributePolicy?: "ENABLED" | "ADMIN_VIEW" | "ADMIN_EDIT";
}

/** username, email, firstName, lastName: the root attributes of every Keycloak user. */
export const ROOT_ATTRIBUTES = ["username", "email", "firstName", "lastName"] as const;

/** Keycloak 24's default realm profile (its root attributes only). */
export function keycloakDefaultUserProfile(): UserProfileConfig {
  const both: { view: ProfileRole[]; edit: ProfileRole[] } = {
    view: ["admin", "user"],
    edit: ["admin", "user"],
  };
  return {
    attributes: [
      {
        name: "username",
        displayName: "${username}",
        validations: {
          length: { min: 3, max: 255 },
          "username-prohibited-characters": {},
          "up-username-not-idn-homograph": {},
        },
        permissions: both,
        multivalued: false,
      },
      {
        name: "email",
        displayName: "${email}",
        validations: { email: {}, length: { max: 255 } },
        required: { roles: ["user"] },
        permissions: both,
        multivalued: false,
      },
      {
        name: "firstName",
        displayName: "${firstName}",
        validations: { length: { max: 255 }, "person-name-prohibited-characters": {} },
        required: { roles: ["user"] },
        permissions: both,
        multivalued: false,
      },
      {
        name: "lastName",
        displayName: "${lastName}",
        validations: { length: { max: 255 }, "person-name-prohibited-characters": {} },
        required: { roles: ["user"] },
        permissions: both,
        multivalued: false,
      },
    ],
    groups: [
      {
        name: "user-metadata",
        displayHeader: "User metadata",
        displayDescription: "Attributes, which refer to user metadata",
      },
    ],
  };
}

/** A custom attribute that only admins (the portal's service account) may change. */
export function adminEditOnlyAttribute(
  name: string,
  validations: ProfileValidations = {},
): UserProfileAttribute {
  return {
    name,
    displayName: name,
    validations,
    permissions: { view: ["admin"], edit: ["admin"] },
    multivalued: false,
  };
}

/** What the admin API may do with an attribute of a user. */
export type AdminAccess = "edit" | "view" | "hidden";

export function adminAccess(profile: UserProfileConfig, name: string): AdminAccess {
  const declared = profile.attributes.find((a) => a.name === name);
  if (declared) {
    if (declared.permissions?.edit?.includes("admin")) return "edit";
    return declared.permissions?.view?.includes("admin") ? "view" : "hidden";
  }
  switch (profile.unmanagedAttributePolicy) {
    case "ENABLED":
    case "ADMIN_EDIT":
      return "edit";
    case "ADMIN_VIEW":
      return "view";
    default:
      return "hidden";
  }
}

/** Keycloak's validation error body: `{"field", "errorMessage", "params"}`. */
export interface ProfileError {
  field: string;
  errorMessage: string;
  params: unknown[];
}

/**
 * The validators the stand-in runs on an admin's values (`options`, `length`, `pattern`,
 * and `multivalued: false`); other validators are accepted and not run.
 */
export function validateAttribute(
  attribute: UserProfileAttribute | undefined,
  name: string,
  values: readonly string[],
): ProfileError | undefined {
  if (!attribute) return undefined;
  const error = (errorMessage: string, ...params: unknown[]): ProfileError => ({
    field: name,
    errorMessage,
    params: [name, ...params],
  });
  if (attribute.multivalued !== true && values.length > 1)
    return error("error-invalid-multivalued-size", 0, 1);
  const v = attribute.validations ?? {};
  for (const value of values) {
    const options = v.options?.options;
    if (Array.isArray(options) && !options.includes(value))
      return error("error-invalid-value", value);
    const length = v.length;
    if (length) {
      const min = typeof length.min === "number" ? length.min : 0;
      const max = typeof length.max === "number" ? length.max : Infinity;
      if (value.length < min || value.length > max) return error("error-invalid-length", min, max);
    }
    const pattern = v.pattern;
    if (typeof pattern?.pattern === "string" && !new RegExp(pattern.pattern).test(value)) {
      const message = pattern["error-message"];
      return error(typeof message === "string" ? message : "error-pattern-no-match", value);
    }
  }
  return undefined;
}

/**
 * A `PUT /users/profile` body, checked as Keycloak checks it: `attributes` is a list of named
 * attributes without duplicates, and `username` and `email` cannot be removed.
 */
export function parseUserProfileConfig(body: unknown): UserProfileConfig | string {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    return "Invalid user profile configuration";
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.attributes)) return "Invalid user profile configuration";
  const names = new Set<string>();
  for (const a of b.attributes as unknown[]) {
    const name = (a as { name?: unknown })?.name;
    if (typeof name !== "string" || name.trim() === "") return "Attribute name is missing";
    if (names.has(name)) return `Duplicated attribute name: ${name}`;
    names.add(name);
  }
  if (!names.has("username") || !names.has("email"))
    return "The attributes username and email can not be removed";
  const policy = b.unmanagedAttributePolicy;
  if (
    policy !== undefined &&
    policy !== null &&
    !["ENABLED", "ADMIN_VIEW", "ADMIN_EDIT"].includes(String(policy))
  )
    return "Invalid unmanagedAttributePolicy";
  const config = structuredClone(b) as unknown as UserProfileConfig;
  if (policy === null) delete config.unmanagedAttributePolicy;
  return config;
}
