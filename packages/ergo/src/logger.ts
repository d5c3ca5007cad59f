import type { Scrubber } from "./scrub";

type LogFn = (obj: object, msg?: string) => void;

/** The logging interface the adapters use; a pino `Logger` fits it. */
export interface ErgoLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;

export const silentLogger: ErgoLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Wraps a logger so that every message and every string in the logged object is scrubbed. */
export function scrubbingLogger(inner: ErgoLogger, scrubber: Scrubber): ErgoLogger {
  const wrap =
    (level: keyof ErgoLogger): LogFn =>
    (obj, msg) => {
      const safeObj = scrubber.scrubValue(obj) as object;
      if (msg === undefined) inner[level](safeObj);
      else inner[level](safeObj, scrubber.scrub(msg));
    };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}
