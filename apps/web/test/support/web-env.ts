import type { Session } from "next-auth";
import { TRPCError } from "@trpc/server";
import { expect } from "vitest";
import type { World } from "./world";

/** Stripe settings for tests that never reach Stripe (the web requires them; port 1 is closed). */
export const TEST_STRIPE_ENV = {
  STRIPE_SECRET_KEY: "sk_test_never_contacted",
  STRIPE_WEBHOOK_SECRET: "whsec_never_used",
  STRIPE_PRICE_PRO: "price_test_pro",
  STRIPE_API_URL: "http://127.0.0.1:1",
};

/**
 * The web's configuration for tests that go through tRPC (env() reads process.env on first
 * use): the world's DB and Kubernetes, a Keycloak that is never contacted. `extra` adds or
 * overrides (e.g. a tiny rate limit).
 */
export function useWebEnv(world: World, extra: Record<string, string> = {}): void {
  Object.assign(process.env, {
    DATABASE_URL: world.databaseUrl,
    KUBECONFIG: world.kubeconfigPath,
    K8S_NAMESPACE: "irc-now",
    AUTH_SECRET: "test-secret-test-secret-test-secret-0123",
    AUTH_URL: "http://127.0.0.1:3000",
    KEYCLOAK_ISSUER: "http://127.0.0.1:1/realms/irc-now",
    KEYCLOAK_CLIENT_ID: "account-portal",
    KEYCLOAK_CLIENT_SECRET: "client-secret",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "admin-client-secret",
    ...TEST_STRIPE_ENV,
    ...extra,
  });
}

/** A signed-in session as currentSession() builds it, valid for an hour. */
export const sessionFor = (id: string, username: string, isAdmin = false): Session => ({
  user: { id, username, isAdmin },
  expires: new Date(Date.now() + 3_600_000).toISOString(),
});

/** The TRPCError a call ends with (fails the test when it resolves or throws anything else). */
export async function trpcError(promise: Promise<unknown>): Promise<TRPCError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}
