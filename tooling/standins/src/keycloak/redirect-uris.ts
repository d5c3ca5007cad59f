/**
 * Keycloak's redirect URI matching on top of oidc-provider's exact match: a registered
 * value ending in `*` allows every URI that starts with what precedes the `*`.
 */
export function matchesRegisteredUri(registered: readonly string[], value: string): boolean {
  if (!URL.canParse(value)) return false;
  return registered.some((uri) => uri.endsWith("*") && value.startsWith(uri.slice(0, -1)));
}

/** Web origins of the registered redirect URIs (Keycloak's `+` web origin). */
export function originsOf(uris: readonly string[]): Set<string> {
  const origins = new Set<string>();
  for (const uri of uris) {
    const parsed = URL.canParse(uri) ? new URL(uri) : undefined;
    if (parsed) origins.add(parsed.origin);
  }
  return origins;
}
