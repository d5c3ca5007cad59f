import { HttpErgoAdmin } from "./http/adapter";
import { IrcErgoAdmin } from "./irc/adapter";
import type { ErgoAdmin, ErgoAdminConfig, ErgoAdminOptions } from "./types";

export const DEFAULT_ADMIN_NICK = "irc-now-admin";

/**
 * Picks the adapter from configuration (packages/config's `ergoEnv`): ergo's HTTP API when
 * ERGO_API_URL is set (ERGO_API_TOKEN then required), otherwise the IRC oper session
 * (ERGO_IRC_URL, ERGO_OPER_NAME, ERGO_OPER_PASSWORD, ERGO_ADMIN_NICK). Nothing connects until
 * the first call. Throws a TypeError naming the missing variable (never its value).
 */
export function createErgoAdmin(
  config: ErgoAdminConfig,
  options: ErgoAdminOptions = {},
): ErgoAdmin {
  if (config.ERGO_API_URL !== undefined && config.ERGO_API_URL !== "") {
    if (config.ERGO_API_TOKEN === undefined || config.ERGO_API_TOKEN === "") {
      throw new TypeError("ERGO_API_TOKEN is required when ERGO_API_URL is set");
    }
    // The API cannot erase accounts: an oper session configured as well does that one job.
    const operSession =
      operSettingsMissing(config).length === 0 ? createOperSession(config, options) : undefined;
    return new HttpErgoAdmin({
      ...(operSession ? { operSession } : {}),
      url: config.ERGO_API_URL,
      token: config.ERGO_API_TOKEN,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.commandTimeoutMs !== undefined
        ? { requestTimeoutMs: options.commandTimeoutMs }
        : {}),
    });
  }
  const missing = operSettingsMissing(config);
  if (missing.length > 0) {
    throw new TypeError(
      `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} required for the ergo oper session (or set ERGO_API_URL and ERGO_API_TOKEN)`,
    );
  }
  return createOperSession(config, options);
}

function operSettingsMissing(config: ErgoAdminConfig) {
  return (["ERGO_IRC_URL", "ERGO_OPER_NAME", "ERGO_OPER_PASSWORD"] as const).filter(
    (key) => config[key] === undefined || config[key] === "",
  );
}

function createOperSession(config: ErgoAdminConfig, options: ErgoAdminOptions): IrcErgoAdmin {
  return new IrcErgoAdmin({
    url: config.ERGO_IRC_URL as string,
    operName: config.ERGO_OPER_NAME as string,
    operPassword: config.ERGO_OPER_PASSWORD as string,
    adminNick: config.ERGO_ADMIN_NICK || DEFAULT_ADMIN_NICK,
    ...options,
  });
}
