import {
  appPasswordsEnv,
  authEnv,
  dbEnv,
  defineArea,
  ergoEnv,
  importEnv,
  irccloudEnv,
  keycloakAdminEnv,
  kubeEnv,
  loadConfig,
  logEnv,
  plansEnv,
  publicEnv,
  stripeEnv,
} from "@irc-now/config";

/**
 * The one ergo setting the web needs: the worker's oper nick, which no user may have as their
 * account (refused at sign-in). Same variable and rule as the worker's `ergo` area, without that
 * area's oper credentials, which the web must not need.
 */
const ergoNickEnv = defineArea({
  name: "ergo-nick",
  shape: { ERGO_ADMIN_NICK: ergoEnv.shape.ERGO_ADMIN_NICK },
  secrets: [],
});

const webAreas = [
  dbEnv,
  kubeEnv,
  authEnv,
  keycloakAdminEnv,
  appPasswordsEnv,
  plansEnv,
  publicEnv,
  ergoNickEnv,
  irccloudEnv,
  importEnv,
  stripeEnv,
  logEnv,
] as const;

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

/**
 * Benchmark-only routes (`/api/bench/*`, for `npm run bench`) answer 404 unless `BENCH_ROUTES=1`.
 * Read per call (a property lookup), so a production server never serves them by accident.
 */
export function benchRoutesEnabled(): boolean {
  return process.env.BENCH_ROUTES === "1";
}
