import { pino, type DestinationStream, type Logger } from "pino";

/** Keys that must never reach a log line, wherever they appear in a logged object. */
const redactPaths = [
  "password",
  "*.password",
  "passphrase",
  "*.passphrase",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "databaseUrl",
  "*.databaseUrl",
  "uri",
  "*.uri",
];

export function createLogger(
  level: string,
  name = "worker",
  destination?: DestinationStream,
): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}
