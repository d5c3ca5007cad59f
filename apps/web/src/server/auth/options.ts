import type { NextAuthOptions, Session } from "next-auth";
import type { JWT } from "next-auth/jwt";
import KeycloakProvider from "next-auth/providers/keycloak";
import { unusableAccountName } from "@irc-now/ergo";
import { env } from "~/env";
import { accountsDb } from "../db";
import { deletionPending } from "../domain/account-deletion";
import { recordLogin } from "../domain/users";
import { usernameSchema } from "../domain/names";
import { safeRedirectUrl } from "./redirect";
import { roleRefreshConfig, SESSION_MAX_AGE_S } from "./config";
import { refreshRoles, rolesFromTokens } from "./role-refresh";

declare module "next-auth" {
  interface Session {
    /** When this session signed in (epoch ms), for the sign-out cutoff; server-side only. */
    signedInAt?: number;
    user: {
      id: string;
      username: string;
      name?: string | null;
      email?: string | null;
      isAdmin: boolean;
    };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    userId?: string;
    username?: string;
    isAdmin?: boolean;
    /** Kept for RP-initiated logout (`id_token_hint`); never sent to the browser as data. */
    idToken?: string;
    /** Keycloak's refresh token, to re-read the roles (role-refresh.ts); never sent as data. */
    refreshToken?: string;
    /** The last verified access token's expiry (epoch s). */
    accessExpiresAt?: number;
    /** When the roles were last read from a verified access token (epoch s). */
    rolesCheckedAt?: number;
    /** Sign-in time (epoch ms), kept across refreshes: sign-out's cutoff compares it. */
    signedInAt?: number;
  }
}

interface KeycloakProfile {
  sub: string;
  preferred_username?: string;
  email?: string;
  name?: string;
}

/**
 * The session the app sees, from the session JWT: next-auth's session callback and
 * `currentSession()` both build it here. `name`/`email` are the token's (next-auth copies them
 * from the Keycloak profile at sign-in); nothing else of the token (e.g. idToken) leaves.
 */
export function sessionFromToken(token: JWT, expires: string): Session {
  return {
    expires,
    ...(typeof token.signedInAt === "number" ? { signedInAt: token.signedInAt } : {}),
    user: {
      id: token.userId ?? "",
      username: token.username ?? "",
      name: token.name ?? null,
      email: token.email ?? null,
      isAdmin: token.isAdmin === true,
    },
  };
}

/**
 * Where sign-in goes instead, for a username irc.now can never set up on IRC (null: allowed).
 * The username becomes the user's soju username and ergo account: it must be a valid IRC name,
 * and not one ergo refuses (its service names, its guest pattern) or the worker's oper nick.
 */
export function signInRefusal(username: string, adminNick: string): string | null {
  if (!usernameSchema.safeParse(username).success) return "/auth/error?error=Username";
  const unusable = unusableAccountName(username, { adminNick });
  return unusable ? `/auth/error?error=UsernameReserved&reason=${unusable.code}` : null;
}

let cached: NextAuthOptions | undefined;

/** next-auth with Keycloak (OIDC, PKCE + state) and stateless JWT sessions. */
export function authOptions(): NextAuthOptions {
  if (cached) return cached;
  const config = env();
  cached = {
    secret: config.AUTH_SECRET,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
    providers: [
      KeycloakProvider({
        clientId: config.KEYCLOAK_CLIENT_ID,
        clientSecret: config.KEYCLOAK_CLIENT_SECRET,
        issuer: config.KEYCLOAK_ISSUER,
        checks: ["pkce", "state"],
      }),
    ],
    pages: { error: "/auth/error" },
    callbacks: {
      async signIn({ profile }) {
        const p = profile as KeycloakProfile | undefined;
        const username = p?.preferred_username?.toLowerCase() ?? "";
        const refusal = signInRefusal(username, config.ERGO_ADMIN_NICK);
        if (refusal) return refusal;
        // Deleting the account: a clear page instead of a failed callback (recordLogin refuses too).
        if (p?.sub && (await deletionPending(accountsDb(), p.sub))) {
          return "/auth/error?error=AccountDeleting";
        }
        return true;
      },
      // At sign-in: the access token is verified against the realm's keys before its roles
      // count (a failure fails the sign-in). Afterwards (next-auth's own /api/auth/session):
      // the roles are re-read once AUTH_ROLE_REFRESH_S has passed; the app's pages and tRPC
      // get the same refresh from proxy.ts.
      async jwt({ token, account, profile }) {
        if (account && profile) {
          const p = profile as KeycloakProfile;
          const roles = await rolesFromTokens(account, roleRefreshConfig());
          const user = await recordLogin(accountsDb(), {
            subject: p.sub,
            username: p.preferred_username ?? "",
            email: p.email ?? null,
            displayName: p.name ?? null,
          });
          return {
            ...token,
            ...roles,
            userId: user.id,
            username: user.username,
            signedInAt: Date.now(),
          };
        }
        const outcome = await refreshRoles(token, roleRefreshConfig());
        // next-auth clears the session cookie when this callback throws.
        if (outcome.kind === "ended") throw new Error(`session ended: ${outcome.reason}`);
        return outcome.kind === "refreshed" ? outcome.token : token;
      },
      // Every callbackUrl next-auth accepts (sign-in, sign-out) stays on our site.
      redirect({ url, baseUrl }) {
        return safeRedirectUrl(url, baseUrl, "/");
      },
      session({ session, token }) {
        return sessionFromToken(token, session.expires);
      },
    },
  };
  return cached;
}
