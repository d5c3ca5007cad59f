/** Messages between the worker benchmark and its peers process (./peers-host.ts). */
import type { SojuBouncer } from "@irc-now/k8s";

export interface PeersInfo {
  /** KUBECONFIG for the API stand-in (admin token). */
  kubeconfig: string;
  ergo: { ircUrl: string; ircPort: number; oper: { name: string; password: string } };
  pid: number;
}

export type HostRequest = { id: number } & (
  | { op: "start"; namespaces: string[]; dir: string; postgresUrl: string }
  /** A simulated operator for `ns`; `withObjects`: `ready` events carry the object. */
  | { op: "open"; ns: string; readyDelayMs: number; withObjects: boolean }
  /** SojuBouncers as the web app creates them: username = name, label irc.now/owner. */
  | { op: "create"; ns: string; items: { name: string; ownerId: string }[] }
  | { op: "close"; ns: string; parallel: number }
  | { op: "stop" }
);

export type HostReply = { id: number; value?: unknown; error?: string };

/** `t`: epoch milliseconds (performance.timeOrigin + performance.now()) in the host. */
export type HostEvent =
  | { ev: "ready"; ns: string; name: string; t: number; object?: SojuBouncer }
  | { ev: "annotated"; ns: string; name: string; t: number };
