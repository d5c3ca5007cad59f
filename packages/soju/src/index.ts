export * from "./port";
export { createSojuAdmin, type SojuAdminConfig, type SojuAdminDeps } from "./factory";
export {
  BouncerServAdmin,
  type BouncerServAdminOptions,
  type SequenceResult,
  type SojuTransport,
} from "./admin";
export {
  DEFAULT_SOCKET_IDLE_TIMEOUT_MS,
  SocketTransport,
  socketPathFor,
  type SocketTransportOptions,
} from "./socket";
export {
  ExecTransport,
  KEPT_IDLE_MS,
  SOJUCTL_SEQUENCE_SCRIPT,
  SOJUCTL_STDIN_SCRIPT,
  SEQUENCE_END,
  interpretSequence,
  sojuctlBatch,
  sojuctlExec,
  sojuctlSequenceArgv,
  sojuctlSequenceExec,
  type ExecTransportOptions,
} from "./exec";
export { SqlRestartAdmin, type SqlRestartOptions } from "./sql-restart";
export { silentLogger, type SojuLogger } from "./logger";
export { assertSendable, bouncerServLine, commandText, quoteWord } from "./words";
export { parseNetworkStatus, parseSaslStatus, saslStatusOf } from "./replies";
export {
  channelCreateWords,
  isChannelExistsReply,
  isNetworkLimitReply,
  keyedJoinCommand,
  MAX_CONNECT_COMMANDS,
  networkCreateWords,
  type ImportedNetwork,
} from "./import-commands";
export { parseNetworkExists } from "./replies";
