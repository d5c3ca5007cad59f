type LogFn = (obj: object, msg?: string) => void;

/** The logging interface of this package; a pino `Logger` fits it. */
export interface SojuLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;

export const silentLogger: SojuLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** A short text for any thrown value (logs carry this, never the value itself). */
export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
