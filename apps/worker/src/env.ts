import { dbEnv, loadConfig, logEnv, workerEnv } from "@irc-now/config";

/** The worker's configuration areas; later features add theirs here (kube, ergo, soju…). */
export const workerAreas = [dbEnv, workerEnv, logEnv] as const;

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(workerAreas, env);
}
