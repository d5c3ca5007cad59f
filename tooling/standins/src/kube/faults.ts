/**
 * Fault injection: the failures a real apiserver (or the network in front of it) shows
 * clients, on demand. Every API request — REST, watch, exec upgrade — passes `gate()`
 * first; health endpoints do not.
 */
import { statusForCode, type StatusError } from "./status";

export interface FailOptions {
  /** HTTP status to answer with (default 500; 429, 503 and 504 get their apiserver reasons). */
  code?: number;
  message?: string;
}

/** What fault filters see of a request. */
export interface RequestInfo {
  method: string;
  /** URL path, e.g. `/api/v1/namespaces/irc-now/pods/x/exec`. */
  path: string;
  query: URLSearchParams;
  /** A WebSocket upgrade (exec). */
  upgrade: boolean;
}

export interface HangOptions {
  /** Hold only the requests this returns true for (default: every API request). */
  match?: (request: RequestInfo) => boolean;
}

export interface HangHandle {
  /** Lets the held requests (and later ones) through now. */
  release(): void;
}

/** The fault-injection controls of a running stand-in. */
export interface KubeFaults {
  /** Ends every open watch stream now (cleanly, as on an apiserver-side timeout). Returns how many. */
  closeWatches(): number;
  /** Answers the next `count` watch requests with an ERROR event carrying 410 Expired. */
  expireNextWatches(count?: number): void;
  /** Answers the next `count` API requests with a Status error (500 InternalError by default). */
  failNextRequests(count: number, options?: FailOptions): void;
  /**
   * Holds every API request that arrives (or those `options.match` picks) until `durationMs`
   * has passed (or, without a duration, until `release()`), then serves it normally. The TCP
   * connection is accepted and the request read; no byte of an answer is sent meanwhile — for a
   * WebSocket upgrade (exec) not even the 101. A new hang replaces the previous one.
   */
  hangRequests(durationMs?: number, options?: HangOptions): HangHandle;
  /** Requests currently held by `hangRequests`. */
  readonly heldRequests: number;
  /** Drops every connection (REST, watches, exec) like an apiserver restart; keeps all data. */
  restart(): void;
  /** Clears pending failures, expiries and hangs. */
  reset(): void;
}

interface Hang {
  match: ((request: RequestInfo) => boolean) | undefined;
  released: Promise<void>;
  release(): void;
  timer?: NodeJS.Timeout;
}

export class FaultInjector implements KubeFaults {
  private failures: Array<Required<FailOptions>> = [];
  private expiries = 0;
  private hang: Hang | undefined;
  private held = 0;

  constructor(private readonly hooks: { closeWatches(): number; dropConnections(): void }) {}

  get heldRequests(): number {
    return this.held;
  }

  closeWatches(): number {
    return this.hooks.closeWatches();
  }

  expireNextWatches(count = 1): void {
    this.expiries += count;
  }

  failNextRequests(count: number, options: FailOptions = {}): void {
    for (let i = 0; i < count; i++)
      this.failures.push({
        code: options.code ?? 500,
        message: options.message ?? "injected fault",
      });
  }

  hangRequests(durationMs?: number, options: HangOptions = {}): HangHandle {
    this.hang?.release();
    let resolve!: () => void;
    const released = new Promise<void>((r) => (resolve = r));
    const hang: Hang = {
      match: options.match,
      released,
      release: () => {
        if (hang.timer !== undefined) clearTimeout(hang.timer);
        if (this.hang === hang) this.hang = undefined;
        resolve();
      },
    };
    if (durationMs !== undefined) hang.timer = setTimeout(() => hang.release(), durationMs);
    this.hang = hang;
    return { release: () => hang.release() };
  }

  restart(): void {
    this.hooks.dropConnections();
  }

  reset(): void {
    this.failures = [];
    this.expiries = 0;
    this.hang?.release();
  }

  /** Holds the request while a hang is active, then consumes one injected failure if any. */
  async gate(request: RequestInfo): Promise<StatusError | undefined> {
    const hang = this.hang;
    if (hang !== undefined && (hang.match === undefined || hang.match(request))) {
      this.held += 1;
      try {
        await hang.released;
      } finally {
        this.held -= 1;
      }
    }
    const failure = this.failures.shift();
    return failure === undefined ? undefined : statusForCode(failure.code, failure.message);
  }

  /** True (once per injected expiry) when this watch must be answered with 410. */
  takeWatchExpiry(): boolean {
    if (this.expiries === 0) return false;
    this.expiries -= 1;
    return true;
  }
}
