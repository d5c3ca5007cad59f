/**
 * Discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/{group}`, `/apis/{group}/{version}`,
 * `/version`), built from the served resources. KubernetesObjectApi reads
 * `/api/v1` and `/apis/{group}/{version}` to map a kind to its plural and scope.
 */
import type { ResourceType, Verb } from "./resources";

export const SERVER_VERSION = {
  major: "1",
  minor: "31",
  gitVersion: "v1.31.0-irc-now-standin",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2024-08-13T00:00:00Z",
  goVersion: "go1.22.5",
  compiler: "gc",
  platform: "linux/amd64",
};

interface GroupVersion {
  groupVersion: string;
  version: string;
}

function groupsOf(types: readonly ResourceType[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const rt of types) {
    if (rt.group === "") continue;
    const versions = groups.get(rt.group) ?? [];
    if (!versions.includes(rt.version)) versions.push(rt.version);
    groups.set(rt.group, versions);
  }
  return groups;
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const list: GroupVersion[] = versions.map((version) => ({
    groupVersion: `${name}/${version}`,
    version,
  }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

export function apiGroupList(types: readonly ResourceType[]): Record<string, unknown> {
  const groups = [...groupsOf(types)].map(([name, versions]) => apiGroup(name, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

export function apiGroupDocument(
  types: readonly ResourceType[],
  group: string,
): Record<string, unknown> | undefined {
  const versions = groupsOf(types).get(group);
  return versions === undefined
    ? undefined
    : { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group, versions) };
}

/** `APIResourceList` for one group/version, or undefined when nothing is served there. */
export function apiResourceList(
  types: readonly ResourceType[],
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const served = types.filter((rt) => rt.group === group && rt.version === version);
  if (served.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const rt of served) {
    const entry: Record<string, unknown> = {
      name: rt.resource,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.verbs,
    };
    if (rt.shortNames.length > 0) entry.shortNames = rt.shortNames;
    resources.push(entry);
    for (const sub of rt.subresources) {
      if (sub === "status") {
        resources.push({
          name: `${rt.resource}/status`,
          singularName: "",
          namespaced: rt.namespaced,
          kind: rt.kind,
          verbs: ["get", "patch", "update"] satisfies Verb[],
        });
      } else if (sub === "exec") {
        resources.push({
          name: `${rt.resource}/exec`,
          singularName: "",
          namespaced: rt.namespaced,
          kind: "PodExecOptions",
          verbs: ["create", "get"],
        });
      }
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}
