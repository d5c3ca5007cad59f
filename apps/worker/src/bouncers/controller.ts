import type { KubeConfig } from "@kubernetes/client-node";
import { isConfigured, isDeleting, isReady } from "@irc-now/k8s";
import type { AccountsDb } from "@irc-now/db";
import { every } from "../loops";
import { sweepUsers } from "../metrics/business";
import { verifyLoopMetrics } from "../metrics/loop-metrics";
import { fixedRateLoop, sweepTenants } from "../metrics/tenant-sweep";
import type { WorkerMetrics } from "../metrics/worker-metrics";
import { closeStaleAttempts } from "./attempts";
import { KeyedQueue } from "./queue";
import { needsReconcile, reconcileBouncer } from "./reconcile";
import { errorText } from "./secrets";
import type { SetupDeps, SetupResult } from "./setup";
import { verifyLoopPorts } from "./verifier";
import { VerifyStage } from "./verify-stage";
import { startVerifyLoop, systemClock } from "./verify-loop";
import { BouncerWatcher } from "./watcher";

export interface ControllerOptions {
  deps: SetupDeps;
  kubeConfig: KubeConfig;
  namespace: string;
  accountsDb: AccountsDb;
  metrics: WorkerMetrics;
  /** Tenant DB URL (or the error reading it) of every bouncer, for the soju metrics sweep. */
  tenantUrls: () => Promise<Map<string, string | Error>>;
  verifyIntervalMs: number;
  /** Verifications in flight at once (verify-loop.ts default 8). */
  verifyConcurrency?: number;
  usersIntervalMs?: number;
  tenantsIntervalMs?: number;
  concurrency?: number;
  /** Step-6 verifications of annotated setups running at once, beside the queue (8). */
  verifyStageConcurrency?: number;
  resyncMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Everything only the leader runs: watch → queue → reconcile, the verifier, and the metric loops.
 * Started when this replica wins the lease, stopped when it loses it.
 */
export class Controller {
  readonly queue: KeyedQueue;
  /** Step 6 of annotated setups, beside the queue (verify-stage.ts). */
  readonly verifying: VerifyStage;
  readonly watcher: BouncerWatcher;
  private loops: { stop: () => Promise<void> }[] = [];
  private running = false;
  /** Cancels in-flight setups when this replica stops leading. */
  private abort = new AbortController();
  /** Bouncers whose setup ended `needs_admin`: not retried until their CR changes. */
  readonly parked = new Set<string>();

  constructor(private readonly o: ControllerOptions) {
    const { deps, metrics } = o;
    const ended = (result: SetupResult) => {
      if (result.outcome === "busy") return;
      metrics.setupAttempts.inc({ outcome: result.outcome });
      metrics.setupDuration.observe({ outcome: result.outcome }, result.durationMs / 1000);
    };
    this.verifying = new VerifyStage(o.verifyStageConcurrency ?? 8, (error) =>
      deps.log.warn({ error: errorText(error) }, "verifying a setup failed"),
    );
    this.queue = new KeyedQueue(
      async (name) => {
        // An annotated setup's step 6 goes to the verify stage: this slot takes the next bouncer.
        const { result, next } = await reconcileBouncer(deps, name, this.abort.signal, (verify) =>
          this.verifying.admit(async () => ended(await verify())),
        );
        if (result?.outcome === "needs_admin") this.parked.add(name);
        else this.parked.delete(name);
        if (result) ended(result);
        return next;
      },
      {
        concurrency: o.concurrency ?? 4,
        baseDelayMs: o.retryBaseMs ?? 2_000,
        maxDelayMs: o.retryMaxMs ?? 5 * 60_000,
      },
      (name, error) =>
        deps.log.warn({ bouncer: name, error: errorText(error) }, "reconcile failed; will retry"),
    );
    this.watcher = new BouncerWatcher({
      kubeConfig: o.kubeConfig,
      namespace: o.namespace,
      list: () => deps.bouncers.list(),
      enqueue: (name, bouncer, type) => {
        if (needsReconcile(bouncer, type)) this.queue.add(name);
      },
      log: deps.log.child({ component: "watcher" }),
      resyncMs: o.resyncMs,
      onRestart: (reason) => metrics.watchRestarts.inc({ reason }),
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    const { deps, metrics } = this.o;
    const log = deps.log;
    this.watcher.start();
    const warn = (what: string) => (error: unknown) =>
      log.warn({ error: errorText(error) }, `${what} failed`);
    this.loops = [
      // Spread over the interval, bounded, each check with a deadline (verify-loop.ts).
      startVerifyLoop(
        verifyLoopPorts(
          {
            bouncers: deps.bouncers,
            ergo: deps.ergo,
            soju: deps.soju,
            recorder: deps.recorder,
            network: deps.settings.upstreamNetwork,
            log,
          },
          systemClock,
          verifyLoopMetrics(metrics),
        ),
        { intervalMs: this.o.verifyIntervalMs, concurrency: this.o.verifyConcurrency },
        warn("verifier"),
      ),
      every(
        this.o.usersIntervalMs ?? 60_000,
        async () => {
          // Ends of attempts the DB missed are written now; attempts a dead worker left
          // `running` (their setup lock is free) are closed.
          await deps.recorder.flush();
          const closed = await closeStaleAttempts(this.o.accountsDb, deps.locks);
          if (closed > 0)
            log.info({ closed }, "closed setup attempts left running by a stopped worker");
          await sweepUsers(this.o.accountsDb, metrics);
          const { items } = await deps.bouncers.list();
          const states = {
            provisioning: 0,
            ready: 0,
            configured: 0,
            needs_admin: 0,
            deleting: 0,
          };
          for (const b of items)
            states[
              isDeleting(b)
                ? "deleting"
                : !isReady(b)
                  ? "provisioning"
                  : isConfigured(b)
                    ? "configured"
                    : this.parked.has(b.metadata.name)
                      ? "needs_admin"
                      : "ready"
            ] += 1;
          for (const [state, n] of Object.entries(states))
            metrics.bouncersBySetupState.set({ state }, n);
        },
        warn("users metrics"),
      ),
      fixedRateLoop(
        this.o.tenantsIntervalMs ?? 300_000,
        () => sweepTenants(this.o.tenantUrls, metrics),
        systemClock,
        { onLag: (ms) => metrics.tenantSweepLag.set(ms / 1000), onError: warn("soju metrics") },
      ),
    ];
  }

  /**
   * Cancels in-flight setups (they stop at their next step, unannotated; a verifying one ends
   * `failed` after its annotation, as before) and resolves once all of them have ended: only then may the caller release the lease to another replica.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort(new Error("this worker stopped leading"));
    await this.watcher.stop();
    await Promise.all(this.loops.map((l) => l.stop()));
    this.loops = [];
    await this.queue.stop();
    // Verifications in flight were cancelled too; they end (and release their locks) first.
    await this.verifying.idle();
  }

  /** Resolves when no setup is queued, running or verifying (scheduled retries do not count). */
  async idle(): Promise<void> {
    for (;;) {
      await this.queue.idle();
      await this.verifying.idle();
      const { pending, inFlight } = this.queue.size;
      if (pending === 0 && inFlight === 0 && this.verifying.size.running === 0) return;
    }
  }
}
