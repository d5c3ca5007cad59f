export type { ErgoAdmin, ErgoAdminConfig, ErgoAdminOptions } from "./types";
export { createErgoAdmin, DEFAULT_ADMIN_NICK } from "./factory";
export {
  ErgoAdminError,
  ErgoRejected,
  ErgoTimeout,
  ErgoUnavailable,
  OperAuthFailed,
  isErgoAdminError,
  type ErgoAdminErrorCode,
} from "./errors";
export { silentLogger, type ErgoLogger } from "./logger";
export { IrcErgoAdmin, parseIrcUrl, type IrcErgoAdminOptions } from "./irc/adapter";
export { HttpErgoAdmin, type HttpErgoAdminOptions } from "./http/adapter";
export {
  ACCOUNT_EXISTS_CODES,
  accountFromWhois,
  classifyPasswd,
  classifySaregister,
  type IrcLine,
  type NickServOutcome,
} from "./irc/replies";
