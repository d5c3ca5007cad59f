/** The URLs of one Keycloak realm, derived from its OIDC issuer. */
export interface RealmEndpoints {
  realm: string;
  /** `{origin}{prefix}/admin/realms/{realm}` */
  adminBase: string;
  /** `{issuer}/protocol/openid-connect/token` */
  tokenEndpoint: string;
}

/**
 * `https://kc.example/realms/irc-now` → admin base `https://kc.example/admin/realms/irc-now`.
 * A path prefix before `/realms/` (Keycloak before 17 served under `/auth`) is kept.
 */
export function realmEndpoints(issuer: string): RealmEndpoints {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error("Keycloak issuer is not a URL (expected https://host/realms/<realm>)");
  }
  const match = /^(.*)\/realms\/([^/]+)\/?$/.exec(url.pathname);
  if (!match || url.search || url.hash)
    throw new Error(`Keycloak issuer ${url.origin}${url.pathname} does not end in /realms/<realm>`);
  const [, prefix = "", realm = ""] = match;
  const issuerBase = `${url.origin}${prefix}/realms/${realm}`;
  return {
    realm: decodeURIComponent(realm),
    adminBase: `${url.origin}${prefix}/admin/realms/${realm}`,
    tokenEndpoint: `${issuerBase}/protocol/openid-connect/token`,
  };
}
