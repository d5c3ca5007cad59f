import type { SojuBouncerPlan } from "./crd";

/** `status.conditions[]` entry, as the operator writes it (metav1.Condition shape). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface SojuBouncerSpec {
  /** soju username = the user's irc.now username. */
  username: string;
  plan: SojuBouncerPlan;
}

export interface SojuBouncerStatus {
  conditions?: Condition[];
  [key: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface SojuBouncer {
  apiVersion: "irc.now/v1alpha1";
  kind: "SojuBouncer";
  metadata: ObjectMeta;
  spec: SojuBouncerSpec;
  status?: SojuBouncerStatus;
}
