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
  classifyErase,
  classifyPasswd,
  classifySaregister,
  type EraseOutcome,
  type IrcLine,
  type NickServOutcome,
} from "./irc/replies";
export {
  ERGO_DEFAULT_ADMIN_NICK,
  ERGO_DEFAULT_GUEST_FORMAT,
  ERGO_RESERVED_NAMES,
  casefoldAscii,
  unusableAccountName,
  type AccountNameRules,
  type UnusableAccountName,
  type UnusableAccountNameCode,
} from "./account-names";
