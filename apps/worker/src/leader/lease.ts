import {
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type CoordinationV1Api,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { describeKubeError, isConflict, isNotFound } from "@irc-now/k8s";

export interface LeaderElectorOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  /**
   * How long a candidate waits, measured on its own clock from the moment it last saw the
   * Lease change, before it treats the holder as dead (a whole number of seconds, as the Lease
   * stores it; default 15, client-go's default).
   */
  leaseDurationSeconds?: number;
  /**
   * A leader that has not renewed successfully for this long (measured locally from the start
   * of its last successful renewal) stops leading, whether or not the hung call ever returns.
   * Must be shorter than the lease duration (default: ⅔ of it, 10 s for 15 s).
   */
  renewDeadlineMs?: number;
  /** How often the leader renews and a standby retries; shorter than the renew deadline (default 2 s, at most ⅕ of the renew deadline). */
  retryPeriodMs?: number;
  /**
   * Upper bound of every single Lease API call (default: the larger of the retry period and
   * half the renew deadline). A leader's calls are also cut at its renew deadline.
   */
  requestTimeoutMs?: number;
  /** Called (not awaited by the election loop) when this replica becomes the leader. */
  onStartedLeading: () => void | Promise<void>;
  /**
   * Called when this replica stops leading, after `onStartedLeading` settled; awaited. Until it
   * settles the elector does not campaign again, and `stop()` neither releases the Lease.
   */
  onStoppedLeading: () => void | Promise<void>;
  log: Logger;
  /**
   * Wall clock for the timestamps written into the Lease (`acquireTime`, `renewTime`), which are
   * informational only. Expiry is never judged by comparing them with any clock: a candidate
   * measures elapsed time on its own monotonic clock.
   */
  now?: () => Date;
}

/**
 * `idle`: not started · `standby`: campaigning · `leading` · `draining`: stepped down,
 * `onStoppedLeading` still running (no campaigning meanwhile) · `stopped`: `stop()` was called
 * and nothing is draining (its promise resolves once the Lease is released).
 */
export type LeaderState = "idle" | "standby" | "leading" | "draining" | "stopped";

export interface LeaderSnapshot {
  state: LeaderState;
  /** The holder this replica last saw in the Lease, `null` when free or unknown. */
  holder: string | null;
}

/** A Lease API call that did not answer within its deadline. */
export class LeaseCallTimeoutError extends Error {
  override readonly name = "LeaseCallTimeoutError";
  constructor(what: string, ms: number) {
    super(`Lease ${what} did not answer within ${Math.round(ms)} ms`);
  }
}

/** The elector moved on (stepped down, stopped) while a call was in flight: its result is moot. */
class Superseded extends Error {}

/** Extra random wait of a standby between attempts, as a fraction of the retry period (client-go's 1.2). */
const JITTER = 1.2;

const monotonicMs = () => performance.now();

/**
 * Leader election over a coordination.k8s.io/v1 Lease, with client-go's leaderelection
 * semantics:
 *
 * - Optimistic concurrency: every write carries the resourceVersion it was based on; a 409
 *   means another replica wrote first.
 * - Expiry by local observation: a candidate notes when *it* saw the Lease record change and
 *   takes over only once its own monotonic clock has passed that moment plus the holder's
 *   `leaseDurationSeconds`, never by comparing the holder's `renewTime` with its clock.
 * - Renew deadline: a leader whose last successful renewal started more than `renewDeadlineMs`
 *   ago steps down by a timer, even while a renewal call hangs. A standby saw that renewal no
 *   earlier than it started, so the leader stops at least `leaseDuration − renewDeadline`
 *   before any standby can take over.
 * - Every call is bounded (`requestTimeoutMs`, AbortSignal on the HTTP request).
 * - Stepping down runs `onStoppedLeading` and waits for it before campaigning again.
 * - `stop()` steps down, keeps the Lease renewed while `onStoppedLeading` drains, and only then
 *   releases it (empty holder) so that a standby takes over at once, after the drain.
 */
export class LeaderElector {
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly requestTimeoutMs: number;

  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private leading = false;
  /** Bumped on every leadership change and on stop: results of older calls are ignored. */
  private epoch = 0;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly inflight = new Set<AbortController>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Monotonic time at which the current leadership ends unless renewed. */
  private renewDeadlineAt = 0;
  private startedLeading: Promise<void> = Promise.resolve();
  private drain: Promise<void> | undefined;

  /** The Lease as last read or written (its resourceVersion is the base of the next write). */
  private lease: V1Lease | undefined;
  private observedKey: string | undefined;
  /** Monotonic time at which this replica saw the Lease record change last. */
  private observedAt = 0;
  private observedDurationMs = 0;
  private observedHolder: string | null = null;

  private readonly listeners = new Set<(snapshot: LeaderSnapshot) => void>();
  private lastEmitted = "";

  constructor(private readonly options: LeaderElectorOptions) {
    const lease = options.leaseDurationSeconds ?? 15;
    if (!Number.isInteger(lease) || lease < 1)
      throw new Error(`leaseDurationSeconds must be a whole number ≥ 1 (got ${lease})`);
    const renew = options.renewDeadlineMs ?? Math.round((lease * 1000 * 2) / 3);
    const retry = options.retryPeriodMs ?? Math.min(2_000, Math.floor(renew / 5));
    if (!(renew > 0 && renew < lease * 1000))
      throw new Error(
        `renewDeadlineMs (${renew}) must be > 0 and shorter than the lease duration (${lease * 1000} ms)`,
      );
    if (!(retry > 0 && retry < renew))
      throw new Error(
        `retryPeriodMs (${retry}) must be > 0 and shorter than renewDeadlineMs (${renew})`,
      );
    const timeout = options.requestTimeoutMs ?? Math.max(retry, renew / 2);
    if (!(timeout > 0)) throw new Error(`requestTimeoutMs must be > 0 (got ${timeout})`);
    this.leaseDurationSeconds = lease;
    this.renewDeadlineMs = renew;
    this.retryPeriodMs = retry;
    this.requestTimeoutMs = timeout;
    this.observedDurationMs = lease * 1000;
  }

  /** True while this replica leads: from a successful acquisition until it steps down. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder this replica last saw in the Lease (`null`: free or not read yet). */
  get holder(): string | null {
    return this.observedHolder;
  }

  get state(): LeaderState {
    if (this.leading) return "leading";
    if (this.drain) return "draining";
    if (this.stopped) return "stopped";
    return this.started ? "standby" : "idle";
  }

  /** Calls `listener` on every change of state or observed holder. Returns unsubscribe. */
  onChange(listener: (snapshot: LeaderSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts campaigning. An elector runs once: it cannot be started again after `stop()`. */
  start(): void {
    if (this.stopped) throw new Error("LeaderElector cannot be restarted after stop()");
    if (this.started) return;
    this.started = true;
    this.emit();
    this.loop = this.run();
  }

  /**
   * Stops for good: (1) stops campaigning; (2) if leading, steps down and awaits
   * `onStoppedLeading` (or awaits a step-down already draining), renewing the Lease meanwhile
   * so that no standby takes over while the caller drains; (3) only then releases the Lease
   * (empty holder) if it still names this replica, so that a standby takes over at once.
   * Never throws; idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    const wasLeading = this.leading;
    const drain = wasLeading ? this.stepDown("stopping") : this.drain;
    this.epoch += 1;
    this.abortInflight("stopping");
    this.wake?.();
    await this.loop;
    if (drain) await (wasLeading ? this.holdWhile(drain) : drain);
    if (this.started) await this.release();
    clearTimeout(this.deadlineTimer);
    this.emit();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.drain) {
        await this.drain; // no campaigning while the caller drains
        continue;
      }
      await this.tick();
      if (this.stopped) break;
      await this.sleep(
        this.leading ? this.retryPeriodMs : this.retryPeriodMs * (1 + Math.random() * JITTER),
      );
    }
  }

  /** One attempt: a leader renews, a standby tries to acquire. Never throws. */
  private async tick(): Promise<void> {
    const epoch = this.epoch;
    try {
      if (this.leading) {
        const outcome = await this.renewOwn(epoch, () => this.leaderCallTimeout());
        if (outcome.renewedFrom !== undefined) this.renewed(outcome.renewedFrom);
        else
          void this.stepDown(
            outcome.holder === null
              ? "the lease was released or deleted by someone else"
              : `the lease is held by ${outcome.holder}`,
          );
      } else {
        await this.tryAcquire(epoch);
      }
    } catch (error) {
      if (error instanceof Superseded || epoch !== this.epoch) return;
      if (isConflict(error)) {
        if (this.leading) void this.stepDown("another replica wrote the lease first (409)");
        else this.options.log.debug("leader election: lost a race for the lease (409)");
        return;
      }
      this.options.log.warn(
        { error: describeKubeError(error), leading: this.leading },
        "leader election: Lease call failed",
      );
    }
  }

  private async tryAcquire(epoch: number): Promise<void> {
    const { identity, log } = this.options;
    let current: V1Lease;
    try {
      current = await this.read(this.requestTimeoutMs);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.check(epoch);
      const started = monotonicMs();
      await this.create();
      this.check(epoch);
      this.acquired(started, null);
      return;
    }
    this.check(epoch);
    const holder = holderOf(current);
    if (holder !== null && holder !== identity && monotonicMs() < this.observedExpiry()) return;
    if (holder !== null && holder !== identity)
      log.info(
        { holder, leaseDurationMs: this.observedDurationMs },
        "the lease was not renewed for its whole duration (by local observation); taking over",
      );
    const started = monotonicMs();
    await this.write(this.renewal(current, holder !== identity), this.requestTimeoutMs);
    this.check(epoch);
    this.acquired(started, holder);
  }

  /**
   * Renews a Lease this replica holds: on the object it last wrote (one call), else on a fresh
   * read (our last write may have landed without our seeing the answer). `renewedFrom` is the
   * start of the successful write; otherwise `holder` says who holds the Lease now.
   */
  private async renewOwn(
    epoch: number,
    timeout: () => number,
  ): Promise<
    { renewedFrom: number; holder?: undefined } | { renewedFrom?: undefined; holder: string | null }
  > {
    if (this.lease) {
      const started = monotonicMs();
      try {
        await this.write(this.renewal(this.lease, false), timeout());
        this.check(epoch);
        return { renewedFrom: started };
      } catch (error) {
        this.check(epoch);
        this.options.log.debug(
          { error: describeKubeError(error) },
          "leader election: renewal on the last known lease failed; reading it",
        );
      }
    }
    let current: V1Lease;
    try {
      current = await this.read(timeout());
    } catch (error) {
      if (isNotFound(error)) return { holder: null };
      throw error;
    }
    this.check(epoch);
    const holder = holderOf(current);
    if (holder !== this.options.identity) return { holder };
    const started = monotonicMs();
    await this.write(this.renewal(current, false), timeout());
    this.check(epoch);
    return { renewedFrom: started };
  }

  /** While stopping: keeps our Lease renewed until the caller's drain settles. */
  private async holdWhile(drain: Promise<void>): Promise<void> {
    let settled = false;
    void drain.then(() => {
      settled = true;
      this.wake?.();
    });
    let heldFrom = this.renewDeadlineAt - this.renewDeadlineMs;
    const epoch = this.epoch;
    while (!settled) {
      await this.sleep(this.retryPeriodMs);
      if (settled) break;
      // Past the renew deadline a standby may take over at any moment: holding is moot.
      if (monotonicMs() - heldFrom > this.renewDeadlineMs) {
        this.options.log.warn("could not keep the lease renewed while draining");
        break;
      }
      try {
        const outcome = await this.renewOwn(epoch, () => this.requestTimeoutMs);
        if (outcome.renewedFrom === undefined) break;
        heldFrom = outcome.renewedFrom;
      } catch (error) {
        if (isConflict(error)) break;
        this.options.log.warn(
          { error: describeKubeError(error) },
          "leader election: renewing the lease while draining failed",
        );
      }
    }
    await drain;
  }

  /** Clears the holder (client-go's release) if the Lease still names us. Never throws. */
  private async release(): Promise<void> {
    const { identity, log } = this.options;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const current = await this.read(this.requestTimeoutMs);
        if (holderOf(current) !== identity) return;
        const now = this.timestamp();
        await this.write(
          {
            ...current,
            spec: {
              ...current.spec,
              holderIdentity: undefined,
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
            },
          },
          this.requestTimeoutMs,
        );
        log.info("released the leadership lease");
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // A conflict is a late write of our own (or someone else's): look again.
        if (isConflict(error)) continue;
        log.warn(
          { error: describeKubeError(error) },
          "could not release the leadership lease; it expires by itself",
        );
        return;
      }
    }
  }

  private acquired(started: number, previous: string | null): void {
    const { log, onStartedLeading } = this.options;
    this.leading = true;
    this.epoch += 1;
    const epoch = this.epoch;
    this.renewed(started);
    log.info({ identity: this.options.identity, previous }, "started leading");
    this.emit();
    this.startedLeading = (async () => {
      await onStartedLeading();
    })().catch((error: unknown) => {
      log.error(
        { error: error instanceof Error ? error.message : String(error) },
        "onStartedLeading failed; stepping down",
      );
      if (this.epoch === epoch && this.leading) void this.stepDown("onStartedLeading failed");
    });
  }

  private renewed(started: number): void {
    this.renewDeadlineAt = started + this.renewDeadlineMs;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(
      () => {
        if (this.leading)
          void this.stepDown(`no successful renewal within ${this.renewDeadlineMs} ms`);
      },
      Math.max(0, this.renewDeadlineAt - monotonicMs()),
    );
  }

  /** Stops leading now; returns the drain (onStoppedLeading, after onStartedLeading settled). */
  private stepDown(reason: string): Promise<void> {
    if (!this.leading) return this.drain ?? Promise.resolve();
    const { log, onStoppedLeading } = this.options;
    this.leading = false;
    this.epoch += 1;
    clearTimeout(this.deadlineTimer);
    this.abortInflight(`stepped down: ${reason}`);
    log.info({ identity: this.options.identity, reason }, "stopped leading");
    const startedLeading = this.startedLeading;
    const drain: Promise<void> = (async () => {
      await startedLeading;
      try {
        await onStoppedLeading();
      } catch (error) {
        log.error(
          { error: error instanceof Error ? error.message : String(error) },
          "onStoppedLeading failed",
        );
      }
    })().finally(() => {
      if (this.drain === drain) this.drain = undefined;
      this.emit();
    });
    this.drain = drain;
    this.emit();
    return drain;
  }

  private leaderCallTimeout(): number {
    return Math.max(1, Math.min(this.requestTimeoutMs, this.renewDeadlineAt - monotonicMs()));
  }

  private observedExpiry(): number {
    return this.observedAt + this.observedDurationMs;
  }

  private renewal(base: V1Lease, takingOver: boolean): V1Lease {
    const spec = base.spec ?? {};
    const now = this.timestamp();
    return {
      ...base,
      spec: {
        ...spec,
        holderIdentity: this.options.identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        renewTime: now,
        acquireTime: takingOver || !spec.acquireTime ? now : spec.acquireTime,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      },
    };
  }

  private async read(timeoutMs: number): Promise<V1Lease> {
    const { coordination, namespace, name } = this.options;
    const lease = await this.call("read", timeoutMs, (options) =>
      coordination.readNamespacedLease({ name, namespace }, options),
    );
    this.observe(lease);
    return lease;
  }

  /** Replaces the Lease, always conditioned on the resourceVersion it was based on. */
  private async write(body: V1Lease, timeoutMs: number): Promise<V1Lease> {
    const { coordination, namespace, name } = this.options;
    if (!body.metadata?.resourceVersion)
      throw new Error("refusing to write the Lease without a resourceVersion");
    const lease = await this.call("write", timeoutMs, (options) =>
      coordination.replaceNamespacedLease({ name, namespace, body }, options),
    );
    this.observe(lease);
    this.lease = lease;
    return lease;
  }

  private async create(): Promise<V1Lease> {
    const { coordination, namespace, name, identity } = this.options;
    const now = this.timestamp();
    const lease = await this.call("create", this.requestTimeoutMs, (options) =>
      coordination.createNamespacedLease(
        {
          namespace,
          body: {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.leaseDurationSeconds,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        },
        options,
      ),
    );
    this.observe(lease);
    this.lease = lease;
    return lease;
  }

  /** Notes the record; a changed record restarts the local expiry clock. */
  private observe(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    const key = JSON.stringify([
      lease.metadata?.resourceVersion,
      spec.holderIdentity ?? "",
      timeKey(spec.renewTime),
      timeKey(spec.acquireTime),
      spec.leaseDurationSeconds,
      spec.leaseTransitions,
    ]);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = monotonicMs();
      const seconds = spec.leaseDurationSeconds;
      this.observedDurationMs =
        (seconds && seconds > 0 ? seconds : this.leaseDurationSeconds) * 1000;
    }
    const holder = holderOf(lease);
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      this.options.log.debug({ holder }, "leader election: lease holder observed");
      this.emit();
    }
  }

  /**
   * Runs one API call with a deadline: the HTTP request gets an AbortSignal (through a
   * per-call client-node middleware) and the returned promise settles at the deadline even if
   * the request ignored the signal. `stepDown`/`stop` abort calls in flight too.
   */
  private async call<T>(
    what: string,
    timeoutMs: number,
    send: (options: ConfigurationOptions) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    this.inflight.add(controller);
    const timer = setTimeout(
      () => controller.abort(new LeaseCallTimeoutError(what, timeoutMs)),
      Math.max(1, Math.round(timeoutMs)),
    );
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason);
      controller.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const request = send(signalOptions(controller.signal));
      request.catch(() => undefined); // its late failure, once we stopped waiting, is moot
      return await Promise.race([request, aborted]);
    } finally {
      clearTimeout(timer);
      controller.signal.removeEventListener("abort", onAbort);
      this.inflight.delete(controller);
    }
  }

  private abortInflight(reason: string): void {
    for (const controller of this.inflight) controller.abort(new Superseded(reason));
    this.inflight.clear();
  }

  private check(epoch: number): void {
    if (epoch !== this.epoch) throw new Superseded("superseded");
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private timestamp(): V1MicroTime {
    return new V1MicroTime((this.options.now?.() ?? new Date()).getTime());
  }

  private emit(): void {
    const snapshot: LeaderSnapshot = { state: this.state, holder: this.observedHolder };
    const key = `${snapshot.state}|${snapshot.holder ?? ""}`;
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.options.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "leader election: change listener failed",
        );
      }
    }
  }
}

function holderOf(lease: V1Lease): string | null {
  return lease.spec?.holderIdentity || null;
}

function timeKey(time: Date | undefined): string {
  return time instanceof Date ? time.toISOString() : String(time ?? "");
}

/** client-node options that put `signal` on the HTTP request (combined with any signal already set). */
function signalOptions(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          const existing = context.getSignal();
          context.setSignal(existing ? AbortSignal.any([existing, signal]) : signal);
          return new Observable(Promise.resolve(context));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: "append",
  };
}
