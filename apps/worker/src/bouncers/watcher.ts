import { Watch, type KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import {
  SOJU_BOUNCER_GROUP,
  SOJU_BOUNCER_PLURAL,
  SOJU_BOUNCER_VERSION,
  type SojuBouncer,
} from "@irc-now/k8s";

export interface WatcherOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Lists the current bouncers and the collection resourceVersion to watch from. */
  list: () => Promise<{ items: SojuBouncer[]; resourceVersion?: string }>;
  /**
   * Called with every listed or watched bouncer, as the list or event carried it (`type`:
   * "LIST" for a list's items); the caller decides whether it needs work.
   */
  enqueue: (
    name: string,
    bouncer: SojuBouncer,
    type: "LIST" | "ADDED" | "MODIFIED" | "DELETED",
  ) => void;
  log: Logger;
  /** Full re-list (enqueuing every bouncer) about this often, ±10 % jitter. */
  resyncMs?: number;
  /** Rebuild the watch when nothing (not even a bookmark) arrived for this long. */
  stallMs?: number;
  /** Server-side watch timeout we ask for. */
  watchTimeoutSeconds?: number;
  maxBackoffMs?: number;
  onRestart?: (reason: "error" | "expired" | "closed" | "stalled" | "resync") => void;
  /** Every successful list, with its objects (the bouncers projection reconciles on it). */
  onList?: (items: SojuBouncer[]) => void;
  /** Every watch event with its object (the bouncers projection follows them). */
  onEvent?: (type: "ADDED" | "MODIFIED" | "DELETED", object: SojuBouncer) => void;
}

interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: {
    metadata?: { name?: string; resourceVersion?: string };
    code?: number;
    reason?: string;
  };
}

/**
 * Informer for SojuBouncers: list, then watch from the list's resourceVersion; 410 Expired or
 * an error → re-list; periodic re-list with jitter (a watch does not redeliver unchanged
 * objects, so this is also how missed work is found); stall detection; capped backoff.
 */
export class BouncerWatcher {
  private running = false;
  private controller: AbortController | undefined;
  private wake: (() => void) | undefined;
  private lastEventAt = 0;
  private failures = 0;
  private loop: Promise<void> | undefined;
  /** Set once the first list succeeded (readiness). */
  synced = false;

  constructor(private readonly options: WatcherOptions) {}

  /**
   * A watch stream is open on top of a successful list: what the watcher knows is current, up
   * to a stream that died silently (the stall check ends such a stream after `stallMs`).
   */
  get watching(): boolean {
    return this.running && this.streamOpen;
  }

  /** The API server answered the current watch request and its stream has not ended. */
  private streamOpen = false;

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.controller?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { log } = this.options;
    const resyncMs = this.options.resyncMs ?? 5 * 60_000;
    let nextResync = Date.now() + jittered(resyncMs);
    let resourceVersion: string | undefined;
    while (this.running) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.options.list();
          for (const item of list.items) this.options.enqueue(item.metadata.name, item, "LIST");
          this.options.onList?.(list.items);
          resourceVersion = list.resourceVersion;
          this.synced = true;
          this.failures = 0;
          nextResync = Date.now() + jittered(resyncMs);
          log.debug({ count: list.items.length, resourceVersion }, "listed bouncers");
        }
        const outcome = await this.watchOnce(resourceVersion, nextResync - Date.now());
        resourceVersion = outcome.resourceVersion;
        if (outcome.reason === "expired" || outcome.reason === "resync")
          resourceVersion = undefined;
        if (outcome.reason !== "closed")
          log.info({ reason: outcome.reason }, "bouncer watch restarting");
        this.options.onRestart?.(outcome.reason);
      } catch (error) {
        if (!this.running) break; // stop() aborted the watch: not a failure
        this.failures += 1;
        resourceVersion = undefined;
        const delay = Math.min(
          this.options.maxBackoffMs ?? 30_000,
          500 * 2 ** Math.min(this.failures, 10),
        );
        log.warn(
          { error: error instanceof Error ? error.message : String(error), retryInMs: delay },
          "bouncer watch failed",
        );
        this.options.onRestart?.("error");
        await this.sleep(jittered(delay));
      }
    }
  }

  private watchOnce(
    resourceVersion: string | undefined,
    resyncInMs: number,
  ): Promise<{
    reason: "expired" | "closed" | "stalled" | "resync";
    resourceVersion: string | undefined;
  }> {
    const { namespace, enqueue } = this.options;
    const stallMs = this.options.stallMs ?? 5 * 60_000;
    const path = `/apis/${SOJU_BOUNCER_GROUP}/${SOJU_BOUNCER_VERSION}/namespaces/${namespace}/${SOJU_BOUNCER_PLURAL}`;
    let rv = resourceVersion;
    return new Promise((resolve, reject) => {
      let settled = false;
      let reason: "expired" | "closed" | "stalled" | "resync" = "closed";
      const finish = (error?: unknown) => {
        if (settled) return;
        settled = true;
        this.streamOpen = false;
        clearInterval(stallTimer);
        clearTimeout(resyncTimer);
        this.wake = undefined;
        if (error && reason === "closed")
          reject(error instanceof Error ? error : new Error(String(error)));
        else resolve({ reason, resourceVersion: rv });
      };
      this.lastEventAt = Date.now();
      const stallTimer = setInterval(
        () => {
          if (Date.now() - this.lastEventAt > stallMs) {
            reason = "stalled";
            this.controller?.abort();
            finish();
          }
        },
        Math.min(stallMs, 5_000),
      );
      const resyncTimer = setTimeout(
        () => {
          reason = "resync";
          this.controller?.abort();
          finish();
        },
        Math.max(0, resyncInMs),
      );
      this.wake = () => finish();
      new Watch(this.options.kubeConfig)
        .watch(
          path,
          {
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
          },
          (type: string, object: WatchEvent["object"]) => {
            this.lastEventAt = Date.now();
            if (type === "ERROR") {
              reason = object.code === 410 ? "expired" : "closed";
              if (object.code !== 410) rv = undefined;
              this.controller?.abort();
              finish();
              return;
            }
            if (object.metadata?.resourceVersion) rv = object.metadata.resourceVersion;
            if (
              (type === "ADDED" || type === "MODIFIED" || type === "DELETED") &&
              object.metadata?.name
            ) {
              enqueue(object.metadata.name, object as unknown as SojuBouncer, type);
              this.options.onEvent?.(type, object as unknown as SojuBouncer);
            }
          },
          (error: unknown) => finish(error ?? undefined),
        )
        .then((controller) => {
          this.controller = controller;
          if (settled) controller.abort();
          else this.streamOpen = true;
        })
        .catch((error: unknown) => finish(error));
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function jittered(ms: number): number {
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}
