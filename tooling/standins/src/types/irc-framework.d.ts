// Minimal typing for irc-framework (untyped CommonJS package), covering what the stand-ins
// and their tests use. Shared: extend this file rather than adding a second
// `declare module "irc-framework"` (two would conflict).
declare module "irc-framework" {
  export interface ClientOptions {
    host?: string;
    port?: number;
    nick?: string;
    username?: string;
    gecos?: string;
    tls?: boolean;
    rejectUnauthorized?: boolean;
    password?: string;
    account?: { account: string; password: string } | Record<string, never>;
    sasl_mechanism?: string;
    sasl_disconnect_on_fail?: boolean;
    auto_reconnect?: boolean;
    auto_reconnect_max_retries?: number;
    ping_interval?: number;
    ping_timeout?: number;
    enable_echomessage?: boolean;
    version?: string | null;
    encoding?: string;
    [option: string]: unknown;
  }

  /** Event payloads are plain objects; the common fields are listed. */
  export interface IrcEvent {
    nick?: string;
    ident?: string;
    hostname?: string;
    account?: string | false;
    message?: string;
    reason?: string;
    error?: string;
    target?: string;
    channel?: string;
    new_nick?: string;
    from_server?: boolean;
    line?: string;
    command?: string;
    params?: string[];
    tags?: Record<string, string>;
    [field: string]: unknown;
  }

  export type IrcListener = (event: IrcEvent) => void;

  export class Client {
    constructor(options?: ClientOptions);
    connect(options?: ClientOptions): void;
    quit(message?: string): void;
    raw(...args: string[]): void;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    changeNick(nick: string): void;
    whois(target: string, cb?: IrcListener): void;
    requestCap(cap: string | string[]): void;
    on(event: string, listener: IrcListener): this;
    once(event: string, listener: IrcListener): this;
    off(event: string, listener?: IrcListener): this;
    removeAllListeners(event?: string): this;
    connected: boolean;
    user: {
      nick: string;
      username: string;
      gecos: string;
      host: string;
      away: boolean;
      modes: Set<string>;
    };
    network: {
      name: string;
      cap: { enabled: string[]; available: Map<string, string>; isEnabled(cap: string): boolean };
      supports(name: string): string | boolean;
    };
  }

  const IRC: { Client: typeof Client };
  export default IRC;
}
