import { requireFromWeb } from "./next-app";

const SESSION_MAX_AGE_S = 8 * 60 * 60; // as apps/web's authOptions

type EncodeJwt = (params: {
  token: Record<string, unknown>;
  secret: string;
  maxAge?: number;
}) => Promise<string>;

/**
 * A next-auth v4 session cookie for a user row, encoded by the web's own next-auth as its jwt
 * callback fills it at sign-in (the bench signs nobody in through Keycloak).
 */
export async function sessionCookie(
  userId: string,
  username: string,
  secret: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const { encode } = requireFromWeb("next-auth/jwt") as { encode: EncodeJwt };
  const token = await encode({
    token: {
      sub: `kc-${username}`,
      name: username,
      email: `${username}@example.test`,
      userId,
      username,
      isAdmin: false,
      // Roles just checked and signed in now, as after a Keycloak sign-in (apps/web's
      // role-refresh.ts); a bench longer than AUTH_ROLE_REFRESH_S should raise that setting.
      rolesCheckedAt: Math.floor(Date.now() / 1000),
      accessExpiresAt: Math.floor(Date.now() / 1000) + 300,
      signedInAt: Date.now(),
      ...extra,
    },
    secret,
    maxAge: SESSION_MAX_AGE_S,
  });
  // AUTH_URL is http://, so next-auth uses the cookie name without the __Secure- prefix.
  return `next-auth.session-token=${token}`;
}
