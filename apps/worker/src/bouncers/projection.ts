import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { LABEL_OWNER, type SojuBouncer } from "@irc-now/k8s";
import type { BouncerProjectionStore, ProjectedBouncer } from "../ports/index";
import { errorText } from "./secrets";
import { BouncerWatcher } from "./watcher";

/**
 * The accounts DB's `bouncers` table as a projection of the SojuBouncers (what the web's soju
 * auth endpoint reads instead of calling Kubernetes on every IRC login): upsert on ADDED and
 * MODIFIED, delete on DELETED (that uid only), and on every (re)list remove the rows whose CR is
 * gone.
 *
 * It runs on EVERY worker replica, not only the leader, with its own watch: the endpoint's
 * answers must not go stale while the lease changes hands (a standby leads only after the old
 * lease expires) or while the leader is busy, and every write is idempotent (same row for the
 * same CR; a later CR of a name always wins over a late event of an earlier one; deletes name
 * the uid), so replicas applying the same events agree. The price is one watch per replica and
 * a duplicate update per event.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The row of one CR; null when the CR lacks what a row needs (a uid). */
export function projectedRow(namespace: string, cr: SojuBouncer): ProjectedBouncer | null {
  const uid = cr.metadata.uid;
  if (!uid) return null;
  const owner = cr.metadata.labels?.[LABEL_OWNER];
  // client-node's list may hand over a Date, the watch a string
  const created = cr.metadata.creationTimestamp as string | Date | undefined;
  const createdAt = created === undefined ? new Date() : new Date(created);
  const m = cr.metadata;
  return {
    namespace,
    name: m.name,
    uid,
    ownerId: owner !== undefined && UUID.test(owner) ? owner.toLowerCase() : null,
    sojuUsername: cr.spec?.username ?? "",
    createdAt: Number.isNaN(createdAt.getTime()) ? new Date() : createdAt,
    // the CR without managedFields and other server bookkeeping (JSON turns Dates into strings)
    resource: JSON.parse(
      JSON.stringify({
        apiVersion: cr.apiVersion,
        kind: cr.kind,
        metadata: {
          name: m.name,
          namespace: m.namespace,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
          generation: m.generation,
          creationTimestamp: m.creationTimestamp,
          deletionTimestamp: m.deletionTimestamp,
          labels: m.labels,
          annotations: m.annotations,
        },
        spec: cr.spec,
        status: cr.status,
      }),
    ) as Record<string, unknown>,
    resourceVersion: m.resourceVersion ?? null,
  };
}

/** ADDED / MODIFIED: the row follows the CR (a row already at its resourceVersion stays). */
export async function projectUpsert(
  store: BouncerProjectionStore,
  namespace: string,
  cr: SojuBouncer,
): Promise<void> {
  const row = projectedRow(namespace, cr);
  if (row) await store.upsert(row);
}

/** DELETED: only the row of this uid goes (a recreated bouncer keeps its new row). */
export async function projectDelete(
  store: BouncerProjectionStore,
  namespace: string,
  cr: SojuBouncer,
): Promise<void> {
  if (cr.metadata.uid) await store.remove(namespace, cr.metadata.name, cr.metadata.uid);
}

/**
 * A full list: every CR's row is brought up to date (rows at the CR's resourceVersion are left
 * alone, so a re-list does not announce every bouncer as changed), then rows of CRs not in the
 * list are removed.
 */
export async function projectList(
  store: BouncerProjectionStore,
  namespace: string,
  items: readonly SojuBouncer[],
  graceS: number,
): Promise<{ removed: number }> {
  for (const cr of items) {
    const row = projectedRow(namespace, cr);
    if (row) await store.upsert(row);
  }
  const removed = await store.removeAllExcept(
    namespace,
    items.map((cr) => cr.metadata.name),
    graceS,
  );
  return { removed };
}

export interface ProjectionOptions {
  store: BouncerProjectionStore;
  namespace: string;
  /** A fresh list of the SojuBouncers (also what catching up after a DB outage uses). */
  list: () => Promise<{ items: SojuBouncer[]; resourceVersion?: string }>;
  log: Logger;
  /** This replica's name in `projection_heartbeats`. */
  replica: string;
  /** Rows observed this recently survive a list that lacks them (default 30 s). */
  graceS?: number;
  /** Catch-up after a failed write: first delay, doubling up to the max (1 s … 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Applies watch events and lists to the store one at a time, in order. A failed write (the
 * accounts DB is down) never reaches the watch: it is logged, and the projection catches up by
 * itself with a fresh list once the DB answers again (retried with backoff), or at the watch's
 * next re-list, whichever comes first.
 */
export class BouncerProjection {
  private tail: Promise<void> = Promise.resolve();
  private behind = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastBeat = 0;

  constructor(private readonly o: ProjectionOptions) {}

  /** True while a write failed and the catch-up has not succeeded yet. */
  get stale(): boolean {
    return this.behind;
  }

  event(type: "ADDED" | "MODIFIED" | "DELETED", cr: SojuBouncer): void {
    const { store, namespace } = this.o;
    this.enqueue(`${type} ${cr.metadata.name}`, () =>
      type === "DELETED"
        ? projectDelete(store, namespace, cr)
        : projectUpsert(store, namespace, cr),
    );
  }

  listed(items: readonly SojuBouncer[]): void {
    this.enqueue("list", () => this.applyList(items));
  }

  /** Resolves once everything queued so far has been applied (or has failed). */
  idle(): Promise<void> {
    return this.tail;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.tail;
  }

  private async applyList(items: readonly SojuBouncer[]): Promise<void> {
    const { removed } = await projectList(
      this.o.store,
      this.o.namespace,
      items,
      this.o.graceS ?? 30,
    );
    if (removed > 0) this.o.log.info({ removed }, "bouncers projection: removed rows of gone CRs");
    await this.beat(true);
    if (this.behind) this.o.log.info("bouncers projection caught up");
    this.behind = false;
    this.failures = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private enqueue(what: string, write: () => Promise<void>): void {
    if (this.stopped) return;
    this.tail = this.tail.then(async () => {
      if (this.stopped) return;
      try {
        await write();
        await this.beat(false);
      } catch (error) {
        this.o.log.warn(
          { error: errorText(error), write: what },
          "bouncers projection write failed; will catch up",
        );
        this.behind = true;
        this.scheduleCatchUp();
      }
    });
  }

  /**
   * While nothing changes there are no events to write: the periodic beat says the projection
   * is still current (the web trusts it only while some replica's beat is recent).
   */
  keepAlive(): void {
    this.enqueue("heartbeat", async () => {
      if (!this.behind) await this.beat(true);
    });
  }

  /**
   * `projection_heartbeats`: after every list, after events at most every 10 s, and every
   * `heartbeatMs` while the watch is open (keepAlive), never while this replica is behind.
   */
  private async beat(always: boolean): Promise<void> {
    if (this.behind && !always) return;
    if (!always && Date.now() - this.lastBeat < 10_000) return;
    await this.o.store.heartbeat(this.o.replica);
    this.lastBeat = Date.now();
  }

  private scheduleCatchUp(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const base = this.o.retryBaseMs ?? 1_000;
    const delay = Math.min(this.o.retryMaxMs ?? 30_000, base * 2 ** Math.min(this.failures, 10));
    this.failures += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.behind) return;
      this.enqueue("catch-up list", async () => this.applyList((await this.o.list()).items));
    }, delay);
  }
}

/** The projection's own watch of the SojuBouncers, for every replica (see above). */
export function startBouncerProjection(
  options: ProjectionOptions & {
    kubeConfig: KubeConfig;
    resyncMs?: number;
    /** How often an open, quiet watch still confirms the projection (30 s). */
    heartbeatMs?: number;
  },
): { projection: BouncerProjection; watcher: BouncerWatcher; stop(): Promise<void> } {
  const projection = new BouncerProjection(options);
  const watcher = new BouncerWatcher({
    kubeConfig: options.kubeConfig,
    namespace: options.namespace,
    list: options.list,
    enqueue: () => undefined,
    onList: (items) => projection.listed(items),
    onEvent: (type, cr) => projection.event(type, cr),
    log: options.log.child({ component: "projection-watcher" }),
    resyncMs: options.resyncMs,
  });
  watcher.start();
  const keepAlive = setInterval(() => {
    if (watcher.watching) projection.keepAlive();
  }, options.heartbeatMs ?? 30_000);
  keepAlive.unref();
  return {
    projection,
    watcher,
    async stop() {
      clearInterval(keepAlive);
      await watcher.stop();
      await projection.stop();
    },
  };
}
