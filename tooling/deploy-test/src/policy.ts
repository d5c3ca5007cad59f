/**
 * What each ServiceAccount of deploy/ may do in its namespace: the exact-verbs table that
 * `npm run test:deploy` checks with `kubectl auth can-i --list` on the real apiserver, and the
 * unit test checks against the rendered Roles. One row per resource, verbs sorted.
 */
export const NAMESPACE = "irc-now";

export type VerbTable = Record<string, string[]>;

export const ACCOUNT_VERBS: Record<string, VerbTable> = {
  // apps/web through packages/k8s BouncerApi: list/get (dashboard, admin), create, delete,
  // patch (admin retry and adopt clear the annotation).
  "irc-now-web": {
    "sojubouncers.irc.now": ["create", "delete", "get", "list", "patch"],
  },
  // apps/worker: watcher, reconcile, annotation; Secrets; soju's pod; leader election; account
  // deletion (the user's bouncers and credential Secret).
  "irc-now-worker": {
    "sojubouncers.irc.now": ["delete", "get", "list", "patch", "watch"],
    secrets: ["create", "delete", "get"],
    pods: ["list"],
    "pods/exec": ["create", "get"],
    "leases.coordination.k8s.io": ["create", "get", "update"],
  },
  // The migrations Job: PostgreSQL only.
  "irc-now-migrate": {},
};

/** Granted to every authenticated user by the apiserver's default roles (system:basic-user). */
export const DEFAULT_GRANTS = new Set([
  "selfsubjectaccessreviews.authorization.k8s.io",
  "selfsubjectrulesreviews.authorization.k8s.io",
]);

/**
 * `kubectl auth can-i --list` output → resource → sorted verbs (resource rows only; the
 * non-resource URLs every account gets for discovery are left out, as are DEFAULT_GRANTS).
 */
export function parseCanIList(text: string): VerbTable {
  const table: VerbTable = {};
  for (const line of text.split("\n").slice(1)) {
    const m = /^(\S+)\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s+\[([^\]]*)\]\s*$/.exec(line.trim());
    if (!m) continue;
    const [, resource, nonResourceUrls, resourceNames, verbs] = m;
    if (nonResourceUrls !== "[]" || DEFAULT_GRANTS.has(resource!)) continue;
    if (resourceNames !== "[]") throw new Error(`unexpected resourceNames rule: ${line}`);
    const set = new Set([...(table[resource!] ?? []), ...verbs!.split(" ").filter(Boolean)]);
    table[resource!] = [...set].sort();
  }
  return table;
}

/** The same table from rendered Roles (rules with apiGroups × resources × verbs). */
export function verbsOfRole(
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
) {
  const table: VerbTable = {};
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources) {
        const [base, sub] = resource.split("/");
        const key = `${base}${group ? `.${group}` : ""}${sub ? `/${sub}` : ""}`;
        table[key] = [...new Set([...(table[key] ?? []), ...rule.verbs])].sort();
      }
  return table;
}
