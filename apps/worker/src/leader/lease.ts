import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { isConflict, isNotFound } from "@irc-now/k8s";

export interface LeaderElectorOptions {
  coordination: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  /** A holder that has not renewed for this long is presumed dead (client-go's default is 15 s). */
  leaseDurationSeconds?: number;
  /** How often the leader renews and a standby retries. */
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void | Promise<void>;
  log: Logger;
  now?: () => Date;
}

/**
 * Leader election over a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does
 * it: optimistic concurrency on the Lease's resourceVersion decides every race.
 */
export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = true;
  private ticking: Promise<void> = Promise.resolve();
  /** The current holder as last seen (for /readyz and the CLI). */
  holder: string | null = null;

  constructor(private readonly options: LeaderElectorOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.retryPeriodMs ?? 2_000);
      });
    };
    loop();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.leading) {
      await this.release().catch(() => undefined);
      await this.setLeading(false);
    }
  }

  private get durationS(): number {
    return this.options.leaseDurationSeconds ?? 15;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async tick(): Promise<void> {
    const { coordination, namespace, name, identity, log } = this.options;
    try {
      let lease: V1Lease;
      try {
        lease = await coordination.readNamespacedLease({ name, namespace });
      } catch (error) {
        if (!isNotFound(error)) throw error;
        const now = this.now();
        await coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.durationS,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.holder = identity;
        this.lastRenew = Date.now();
        await this.setLeading(true);
        return;
      }
      const spec = lease.spec ?? {};
      this.holder = spec.holderIdentity || null;
      const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
      const expired =
        renewedAt + (spec.leaseDurationSeconds ?? this.durationS) * 1000 < this.now().getTime();
      if (spec.holderIdentity === identity || !spec.holderIdentity || expired) {
        const now = this.now();
        const takingOver = spec.holderIdentity !== identity;
        await coordination.replaceNamespacedLease({
          name,
          namespace,
          body: {
            ...lease,
            spec: {
              ...spec,
              holderIdentity: identity,
              leaseDurationSeconds: this.durationS,
              renewTime: now,
              acquireTime: takingOver ? now : spec.acquireTime,
              leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
            },
          },
        });
        if (takingOver)
          log.info({ previous: spec.holderIdentity || null }, "acquired leadership lease");
        this.holder = identity;
        this.lastRenew = Date.now();
        await this.setLeading(true);
      } else {
        await this.setLeading(false);
      }
    } catch (error) {
      if (isConflict(error)) {
        // Someone else wrote the lease first: they won this round.
        if (this.leading) log.warn("lost the leadership lease to a concurrent writer");
        await this.setLeading(false);
        return;
      }
      log.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "leader election: API call failed",
      );
      // Without a renewal for a lease duration another replica may lead: step down first.
      if (this.leading && Date.now() - this.lastRenew > this.durationS * 1000)
        await this.setLeading(false);
    }
  }

  private async release(): Promise<void> {
    const { coordination, namespace, name, identity } = this.options;
    const lease = await coordination.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== identity) return;
    await coordination.replaceNamespacedLease({
      name,
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined } },
    });
  }

  private async setLeading(leading: boolean): Promise<void> {
    if (leading === this.leading) return;
    this.leading = leading;
    this.options.log.info(
      { identity: this.options.identity },
      leading ? "started leading" : "stopped leading",
    );
    await (leading ? this.options.onStartedLeading() : this.options.onStoppedLeading());
  }
}
