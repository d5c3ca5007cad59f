/**
 * Realm roles from a Keycloak access token. Keycloak's default mapper puts `realm_access.roles`
 * into the ACCESS token only (facts/keycloak.md), so the ID token cannot tell us who is admin.
 * The token comes straight from the token endpoint over the back channel, so its payload is
 * read without re-verifying the signature.
 */
export function realmRolesOf(accessToken: string | undefined): string[] {
  if (!accessToken) return [];
  const payload = accessToken.split(".")[1];
  if (!payload) return [];
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      realm_access?: { roles?: unknown };
    };
    const roles = claims.realm_access?.roles;
    return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === "string") : [];
  } catch {
    return [];
  }
}
