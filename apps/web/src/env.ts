import { dbEnv, loadConfig, logEnv } from "@irc-now/config";

const webAreas = [dbEnv, logEnv] as const;

let cached: ReturnType<typeof loadConfig<typeof webAreas>> | undefined;

/**
 * Validated server configuration, read on first use (not at import) so `next build`
 * works without production secrets. Later features add their areas (auth, kube, stripe…).
 */
export function env() {
  cached ??= loadConfig(webAreas, process.env);
  return cached;
}
