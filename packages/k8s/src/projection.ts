import type { SojuBouncer } from "./types";

const iso = (t: unknown): string | undefined =>
  t === undefined || t === null ? undefined : new Date(t as string).toISOString();

/**
 * What the accounts DB's `bouncers` projection stores of a SojuBouncer (`resource`): everything
 * a view is built from (metadata that identifies and labels it, its timestamps, spec, status)
 * and nothing else (no managedFields, no owner references). Timestamps as ISO strings: the
 * client's list hands over Dates, its watch strings.
 */
export function projectedResource(cr: SojuBouncer): Record<string, unknown> {
  const m = cr.metadata;
  return {
    apiVersion: cr.apiVersion,
    kind: cr.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      generation: m.generation,
      labels: m.labels,
      annotations: m.annotations,
      creationTimestamp: iso(m.creationTimestamp),
      deletionTimestamp: iso(m.deletionTimestamp),
    },
    spec: cr.spec,
    status: cr.status,
  };
}
