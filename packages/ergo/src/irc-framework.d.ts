// Minimal typings for irc-framework 4.x (an untyped CommonJS package): only what
// packages/ergo uses. This file is a global declaration file (no top-level import/export), so
// `declare module` below is an ambient module declaration even under `moduleDetection: force`
// (which only forces non-declaration files into module mode). src/irc/session.ts pulls it in
// with a `/// <reference path>` so that packages importing @irc-now/ergo type-check too.
declare module "irc-framework" {
  export interface ClientOptions {
    host?: string;
    port?: number;
    nick?: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    account?: { account: string; password: string };
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    version?: string | null;
    encoding?: string;
  }

  /** A parsed line (irc-framework's IrcMessage): numerics keep their digits as `command`. */
  export interface IrcMessage {
    tags: Record<string, string>;
    prefix: string;
    nick: string;
    ident: string;
    hostname: string;
    command: string;
    params: string[];
  }

  export type RawMiddleware = (
    command: string,
    message: IrcMessage,
    rawLine: string,
    client: Client,
    next: (err?: unknown) => void,
  ) => void;

  export interface MiddlewareHandler<F> {
    use(middleware: F): void;
  }

  export interface RegisteredEvent {
    nick: string;
  }

  export class Client {
    constructor(options?: ClientOptions);
    connect(options?: ClientOptions): void;
    /** Sends one line verbatim when given a single string. */
    raw(line: string): void;
    quit(message?: string): void;
    requestCap(cap: string | string[]): void;
    use(
      middleware: (
        client: Client,
        rawEvents: MiddlewareHandler<RawMiddleware>,
        parsedEvents: MiddlewareHandler<(...args: unknown[]) => void>,
      ) => void,
    ): this;
    on(event: "registered", listener: (event: RegisteredEvent) => void): this;
    on(event: "socket connected", listener: () => void): this;
    on(event: "socket close", listener: (err?: Error | false) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    removeAllListeners(event?: string): this;
    readonly connected: boolean;
    connection: {
      /** Closes the socket, optionally after writing `data`; `hadError` keeps reconnect logic armed. */
      end(data?: string, hadError?: boolean): void;
    };
    network: {
      cap: { enabled: string[]; isEnabled(cap: string): boolean };
    };
    user: { nick: string };
  }

  const IRC: { Client: typeof Client };
  export default IRC;
}
