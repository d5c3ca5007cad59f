import { authEnv, dbEnv, kubeEnv, loadConfig, logEnv, plansEnv, publicEnv } from "@irc-now/config";

const webAreas = [dbEnv, kubeEnv, authEnv, plansEnv, publicEnv, logEnv] as const;

export type WebConfig = ReturnType<typeof loadConfig<typeof webAreas>>;

let cached: WebConfig | undefined;

/**
 * Validated server configuration, read on first use (not at import) so `next build`
 * works without production secrets.
 */
export function env(): WebConfig {
  if (!cached) {
    cached = loadConfig(webAreas, process.env);
    // next-auth v4 reads its public URL and secret from these names.
    process.env.NEXTAUTH_URL = cached.AUTH_URL;
    process.env.NEXTAUTH_SECRET = cached.AUTH_SECRET;
  }
  return cached;
}

/** Only the DB part, for /api/healthz (works even when auth settings are broken). */
export function dbConfig() {
  return loadConfig([dbEnv], process.env);
}
