import {
  dbEnv,
  ergoEnv,
  importEnv,
  keycloakAdminEnv,
  kubeEnv,
  loadConfig,
  logEnv,
  plansEnv,
  sojuEnv,
  stripeWorkerEnv,
  upstreamEnv,
  workerEnv,
} from "@irc-now/config";

/** Everything the worker (and its CLI) reads from the environment. */
export const workerAreas = [
  dbEnv,
  kubeEnv,
  ergoEnv,
  sojuEnv,
  upstreamEnv,
  workerEnv,
  importEnv,
  // The Keycloak outbox's drain pushes users' attributes through the admin API.
  keycloakAdminEnv,
  // Billing (issue 14): the grace-period check re-evaluates plans (quotas, grace days); an account
  // deletion cancels the subscription when a Stripe key is given (optional).
  plansEnv,
  stripeWorkerEnv,
  logEnv,
] as const;

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(workerAreas, env);
}

/** The replica's identity in the leader lease: the pod name on Kubernetes. */
export function replicaIdentity(): string {
  return `${process.env.HOSTNAME ?? "worker"}-${process.pid}`;
}
