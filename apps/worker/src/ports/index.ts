/**
 * What the worker needs from the outside world, as small interfaces. Production wires the real
 * clients (packages/k8s, packages/ergo, packages/soju, Drizzle); tests wire the same clients
 * against the stand-ins. Reconcile logic only ever sees these.
 */
import type { SojuAdmin } from "@irc-now/soju";
import type { SojuBouncer } from "@irc-now/k8s";

export type { SojuAdmin };

export interface BouncerStore {
  get(name: string): Promise<SojuBouncer | null>;
  list(): Promise<{ items: SojuBouncer[] }>;
  markConfigured(name: string): Promise<SojuBouncer>;
}

/** The ErgoAdmin port (packages/ergo). */
export interface ErgoPort {
  ensureAccount(account: string, password: string): Promise<"created" | "reset">;
  checkCredentials(account: string, password: string): Promise<boolean>;
  /** The account `nick` is logged in as, or null. */
  whois(nick: string): Promise<string | null>;
}

/** Read access to one bouncer's soju tenant DB (opened per use, always closed). */
export interface TenantDb {
  hasUser(username: string): Promise<boolean>;
  /** SASL PLAIN credentials soju stores for `username`'s network `network`, if any. */
  saslPlainCredentials(
    username: string,
    network: string,
  ): Promise<{ username: string; password: string } | null>;
  close(): Promise<void>;
}

export type OpenTenantDb = (bouncer: string) => Promise<TenantDb>;
