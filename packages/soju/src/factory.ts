/**
 * `createSojuAdmin`: the SojuAdmin adapter chosen by `SOJU_ADMIN` (DESIGN.md §2).
 */
import type { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { BouncerServAdmin } from "./admin";
import { ExecTransport } from "./exec";
import type { SojuLogger } from "./logger";
import type { SojuAdmin } from "./port";
import { SocketTransport } from "./socket";
import { SqlRestartAdmin } from "./sql-restart";

/** The fields of packages/config's `sojuEnv` area, plus the namespace of the bouncers. */
export interface SojuAdminConfig {
  SOJU_ADMIN: "exec" | "socket" | "sql-restart";
  /** Socket path, `{name}` = bouncer name (required for `socket`). */
  SOJU_ADMIN_SOCKET?: string | undefined;
  /** Label selector of a bouncer's pods, `{name}` = bouncer name (`irc.now/bouncer={name}`). */
  SOJU_POD_SELECTOR: string;
  SOJU_CONTAINER: string;
  SOJU_CONFIG_PATH: string;
  /** `K8S_NAMESPACE`. */
  namespace: string;
}

export interface SojuAdminDeps {
  /** exec: the cluster to exec in (packages/k8s `createKubeClients().kubeConfig`). */
  kubeConfig?: KubeConfig;
  /** exec and sql-restart: finds (and, for sql-restart, deletes) the bouncer's pods. */
  core?: CoreV1Api;
  /** sql-restart: the bouncer's tenant DB URL (packages/k8s `readTenantDbUrl`). */
  tenantDbUrl?: (bouncer: string) => Promise<string>;
  /** pino-compatible; gets no secrets. */
  logger?: SojuLogger;
  /** Per BouncerServ command (socket default 30 s, exec default 60 s). */
  commandTimeoutMs?: number;
  /** exec: deadline of opening the exec WebSocket (default 15 s, capped by the command's). */
  execOpenTimeoutMs?: number;
  /** socket: a bouncer's admin connection is closed after this long unused (default 60 s; 0: never). */
  socketIdleTimeoutMs?: number;
  /** How often `saslStatus` asks again for a missing state line (default 3, facts §7.4). */
  saslStatusRetries?: number;
}

function required<T>(value: T | undefined, what: string, mode: string): T {
  if (value === undefined) throw new Error(`SOJU_ADMIN=${mode} needs ${what}`);
  return value;
}

export function createSojuAdmin(config: SojuAdminConfig, deps: SojuAdminDeps = {}): SojuAdmin {
  const logger = deps.logger;
  const common = {
    ...(logger ? { logger } : {}),
    ...(deps.commandTimeoutMs !== undefined ? { commandTimeoutMs: deps.commandTimeoutMs } : {}),
  };
  const adminOptions = {
    ...(logger ? { logger } : {}),
    ...(deps.saslStatusRetries !== undefined ? { saslStatusRetries: deps.saslStatusRetries } : {}),
  };
  switch (config.SOJU_ADMIN) {
    case "socket":
      return new BouncerServAdmin(
        new SocketTransport({
          pathTemplate: required(config.SOJU_ADMIN_SOCKET, "SOJU_ADMIN_SOCKET", "socket"),
          ...common,
          ...(deps.socketIdleTimeoutMs !== undefined
            ? { idleTimeoutMs: deps.socketIdleTimeoutMs }
            : {}),
        }),
        adminOptions,
      );
    case "exec":
      return new BouncerServAdmin(
        new ExecTransport({
          kubeConfig: required(deps.kubeConfig, "a KubeConfig", "exec"),
          core: required(deps.core, "a CoreV1Api client", "exec"),
          namespace: config.namespace,
          podSelector: config.SOJU_POD_SELECTOR,
          container: config.SOJU_CONTAINER,
          configPath: config.SOJU_CONFIG_PATH,
          ...common,
          ...(deps.execOpenTimeoutMs !== undefined
            ? { openTimeoutMs: deps.execOpenTimeoutMs }
            : {}),
        }),
        adminOptions,
      );
    case "sql-restart":
      return new SqlRestartAdmin({
        core: required(deps.core, "a CoreV1Api client", "sql-restart"),
        namespace: config.namespace,
        podSelector: config.SOJU_POD_SELECTOR,
        tenantDbUrl: required(deps.tenantDbUrl, "a tenantDbUrl resolver", "sql-restart"),
        ...(logger ? { logger } : {}),
      });
    default: {
      const mode: never = config.SOJU_ADMIN;
      throw new Error(`unknown SOJU_ADMIN ${String(mode)}`);
    }
  }
}
