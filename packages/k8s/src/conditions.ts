import { ANNOTATION_UPSTREAM_CONFIGURED } from "./crd";
import type { Condition, SojuBouncer } from "./types";

export function conditionOf(bouncer: SojuBouncer, type: string): Condition | undefined {
  return bouncer.status?.conditions?.find((c) => c.type === type);
}

/** `Ready=True`: the operator says soju runs and its DB is provisioned. */
export function isReady(bouncer: SojuBouncer): boolean {
  return conditionOf(bouncer, "Ready")?.status === "True";
}

/** The worker finished upstream setup (and will not touch soju's network again). */
export function isConfigured(bouncer: SojuBouncer): boolean {
  return bouncer.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED] === "true";
}

export function isDeleting(bouncer: SojuBouncer): boolean {
  return bouncer.metadata.deletionTimestamp !== undefined;
}
