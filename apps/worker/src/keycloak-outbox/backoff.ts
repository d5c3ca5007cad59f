/**
 * Delay before the next push after `failures` failed ones (≥ 1): `baseMs · 2^(failures-1)`,
 * capped at `capMs`, then jittered down by up to half so that users who failed together (a
 * Keycloak outage) do not all come back in the same instant. Never above `capMs`.
 */
export function retryDelayMs(
  failures: number,
  settings: { retryBaseMs: number; retryCapMs: number },
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const ceiling = Math.min(settings.retryCapMs, settings.retryBaseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
