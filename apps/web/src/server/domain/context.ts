import type { AccountsDb } from "@irc-now/db";
import type { BouncerApi } from "@irc-now/k8s";

/** What domain functions need; tRPC builds it per request, tests build it directly. */
export interface DomainContext {
  db: AccountsDb;
  bouncers: BouncerApi;
  namespace: string;
  quotas: { free: number; pro: number };
  publicEndpoint: { host: string; port: number; tls: boolean };
  /** The worker's ergo oper nick (`ERGO_ADMIN_NICK`): never usable as a user's account. */
  ergoAdminNick: string;
}

export interface Actor {
  id: string;
  username: string;
  plan: "free" | "pro";
}
