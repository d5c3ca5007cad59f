import type { AccountsDb } from "@irc-now/db";
import type { BouncerApi } from "@irc-now/k8s";

/** What domain functions need; tRPC builds it per request, tests build it directly. */
export interface DomainContext {
  db: AccountsDb;
  bouncers: BouncerApi;
  namespace: string;
  quotas: { free: number; pro: number };
  publicEndpoint: { host: string; port: number; tls: boolean };
}

export interface Actor {
  id: string;
  username: string;
  plan: "free" | "pro";
}
