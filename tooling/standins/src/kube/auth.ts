/**
 * Authentication by bearer token and authorisation by a token → rules table, shaped like
 * RBAC PolicyRules, so tests can check what a component's Role must grant. Unknown or
 * missing tokens get 401; a request no rule allows gets 403 with the apiserver's message.
 */
import { randomBytes } from "node:crypto";
import { forbidden, unauthorized, type StatusError } from "./status";

/** An RBAC PolicyRule; `namespaces` stands in for where a RoleBinding grants it (omitted: cluster-wide). */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  /** `sojubouncers`, `sojubouncers/status`, `pods/exec`, `*`. */
  resources: string[];
  resourceNames?: string[];
  namespaces?: string[];
}

export interface KubeUser {
  /** The user name in messages, e.g. `system:serviceaccount:irc-now:worker`. */
  name: string;
  rules: PolicyRule[];
}

/** What a request asks to do (the apiserver's authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export const CLUSTER_ADMIN_RULES: readonly PolicyRule[] = [
  { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
];

export class Authorizer {
  private readonly users = new Map<string, KubeUser>();
  /** A token with every permission (what `kubeConfig()` uses by default). */
  readonly adminToken: string;

  constructor(users: Record<string, KubeUser> = {}) {
    this.adminToken = `standin-admin-${randomBytes(12).toString("hex")}`;
    this.users.set(this.adminToken, { name: "kubernetes-admin", rules: [...CLUSTER_ADMIN_RULES] });
    for (const [token, user] of Object.entries(users)) this.setUser(token, user);
  }

  /** Adds or replaces the user a token authenticates as. */
  setUser(token: string, user: KubeUser): void {
    if (token === "") throw new Error("empty bearer token");
    this.users.set(token, { name: user.name, rules: user.rules.map((r) => ({ ...r })) });
  }

  removeUser(token: string): void {
    if (token !== this.adminToken) this.users.delete(token);
  }

  /** The user of an `Authorization` header; 401 when missing or unknown. */
  authenticate(header: string | undefined): KubeUser {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    const user = match?.[1] === undefined ? undefined : this.users.get(match[1]);
    if (user === undefined) throw unauthorized();
    return user;
  }

  /** Throws 403 unless one of the user's rules allows the request. */
  authorize(user: KubeUser, attrs: RequestAttributes): void {
    if (user.rules.some((rule) => allows(rule, attrs))) return;
    throw denied(user, attrs);
  }
}

function allows(rule: PolicyRule, attrs: RequestAttributes): boolean {
  const resource =
    attrs.subresource === undefined ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  const has = (list: string[] | undefined, value: string): boolean =>
    list === undefined || list.includes("*") || list.includes(value);
  if (!has(rule.verbs, attrs.verb) || !has(rule.apiGroups, attrs.apiGroup)) return false;
  const resourceOk =
    rule.resources.includes("*") ||
    rule.resources.includes(resource) ||
    (attrs.subresource !== undefined && rule.resources.includes(`*/${attrs.subresource}`));
  if (!resourceOk) return false;
  if (
    rule.resourceNames !== undefined &&
    rule.resourceNames.length > 0 &&
    (attrs.name === undefined || !rule.resourceNames.includes(attrs.name))
  )
    return false;
  if (
    rule.namespaces !== undefined &&
    (attrs.namespace === undefined || !has(rule.namespaces, attrs.namespace))
  )
    return false;
  return true;
}

function denied(user: KubeUser, attrs: RequestAttributes): StatusError {
  const resource =
    attrs.subresource === undefined ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  const scope =
    attrs.namespace === undefined
      ? "at the cluster scope"
      : `in the namespace "${attrs.namespace}"`;
  return forbidden(
    { group: attrs.apiGroup, resource: attrs.resource },
    attrs.name,
    `User "${user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.apiGroup}" ${scope}`,
  );
}
