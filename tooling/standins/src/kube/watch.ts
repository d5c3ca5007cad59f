/**
 * Watch streams: `GET …?watch=1` answered with a chunked stream of newline-delimited
 * `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":…}` events, as the apiserver's
 * watch cache produces them: initial ADDED events when no resourceVersion is given,
 * replay after a resourceVersion, 410 Expired as an ERROR event when that history is
 * compacted, selector transitions as ADDED/DELETED, periodic bookmarks, timeoutSeconds.
 */
import type { ServerResponse } from "node:http";
import type { StoredObject } from "./objects";
import { parseResourceVersion, type Registry } from "./registry";
import { resourceKey, type ResourceType } from "./resources";
import { StatusError, timeout, type Status } from "./status";
import type { StoreEvent } from "./store";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchParams {
  rt: ResourceType;
  /** Undefined: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
}

export interface WatchHubOptions {
  /** How often bookmarks are sent to watches that allow them. */
  bookmarkIntervalMs: number;
  /** Server-side timeout of a watch that names no timeoutSeconds. */
  defaultTimeoutSeconds: number;
}

interface ActiveWatch {
  res: ServerResponse;
  stop(): void;
}

export class WatchHub {
  private readonly active = new Set<ActiveWatch>();

  constructor(
    private readonly registry: Registry,
    private readonly options: WatchHubOptions,
  ) {}

  /** Number of open watch streams. */
  get count(): number {
    return this.active.size;
  }

  /**
   * Serves a watch on `res`. Bad selectors throw (before anything is written) so the
   * caller answers them as a plain 400.
   */
  serve(params: WatchParams, res: ServerResponse): void {
    const { rt } = params;
    const store = this.registry.store;
    const key = resourceKey(rt);
    const match = this.registry.matcher(
      rt,
      params.namespace,
      params.labelSelector,
      params.fieldSelector,
    );
    const rvParam = params.resourceVersion ?? "";

    const initial: string[] = [];
    if (params.sendInitialEvents === true || rvParam === "" || rvParam === "0") {
      // No resourceVersion (or "0", or sendInitialEvents): the current state as ADDED events first.
      for (const obj of store.list(key)) if (match(obj)) initial.push(line("ADDED", obj));
    } else {
      const rv = parseResourceVersion(rvParam);
      if (rv > store.currentRevision) {
        this.serveError(
          res,
          timeout(`Too large resource version: ${rv}, current: ${store.currentRevision}`, 1).status,
        );
        return;
      }
      try {
        for (const event of store.eventsAfter(rv)) {
          if (event.resource !== key) continue;
          const out = transform(event, match);
          if (out !== undefined) initial.push(out);
        }
      } catch (err) {
        if (err instanceof StatusError) {
          this.serveError(res, err.status);
          return;
        }
        throw err;
      }
    }

    res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
      "Transfer-Encoding": "chunked",
    });
    res.flushHeaders();
    const write = (chunk: string): void => {
      if (!res.writableEnded && !res.destroyed) res.write(chunk);
    };
    const bookmark = (annotations?: Record<string, string>): void => {
      const metadata: Record<string, unknown> = { resourceVersion: String(store.currentRevision) };
      if (annotations !== undefined) metadata.annotations = annotations;
      write(
        JSON.stringify({
          type: "BOOKMARK",
          object: { kind: rt.kind, apiVersion: rt.apiVersion, metadata },
        }) + "\n",
      );
    };
    for (const chunk of initial) write(chunk);
    if (params.sendInitialEvents === true && params.allowWatchBookmarks === true)
      bookmark({ "k8s.io/initial-events-end": "true" });

    // Everything up to now is written; from here on every commit is forwarded synchronously,
    // so nothing falls between the replay and the live stream.
    const unsubscribe = store.subscribe((event) => {
      if (event.resource !== key) return;
      const out = transform(event, match);
      if (out !== undefined) write(out);
    });
    const timers: { bookmark?: NodeJS.Timeout; timeout?: NodeJS.Timeout } = {};
    const cleanup = (): void => {
      unsubscribe();
      clearInterval(timers.bookmark);
      clearTimeout(timers.timeout);
      this.active.delete(watch);
    };
    const watch: ActiveWatch = {
      res,
      stop: () => {
        cleanup();
        if (!res.writableEnded) res.end();
      },
    };
    this.active.add(watch);
    res.on("close", cleanup);

    if (params.allowWatchBookmarks === true)
      timers.bookmark = setInterval(() => bookmark(), this.options.bookmarkIntervalMs);
    const seconds =
      params.timeoutSeconds !== undefined && params.timeoutSeconds > 0
        ? params.timeoutSeconds
        : this.options.defaultTimeoutSeconds;
    timers.timeout = setTimeout(() => {
      // Like the watch cache: a last bookmark lets the client resume exactly here.
      if (params.allowWatchBookmarks === true) bookmark();
      watch.stop();
    }, seconds * 1000);
  }

  /** Answers a watch with 200, one ERROR event carrying `status`, and the end of the stream. */
  serveError(res: ServerResponse, status: Status): void {
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Cache-Control": "no-cache, private",
    });
    res.end(JSON.stringify({ type: "ERROR", object: status }) + "\n");
  }

  /** Ends every open watch stream cleanly, as an apiserver does when it drops watches. */
  closeAll(): number {
    const watches = [...this.active];
    for (const watch of watches) watch.stop();
    return watches.length;
  }
}

function line(type: WatchEventType, object: StoredObject): string {
  return JSON.stringify({ type, object }) + "\n";
}

/**
 * What a filtered watcher sees of a change: an object that starts matching is ADDED, one
 * that stops matching is DELETED (its previous state at the new resourceVersion).
 */
function transform(event: StoreEvent, match: (obj: StoredObject) => boolean): string | undefined {
  if (event.type === "DELETED")
    return match(event.object) ? line("DELETED", event.object) : undefined;
  const now = match(event.object);
  const before = event.prev !== undefined && match(event.prev);
  if (event.type === "ADDED") return now ? line("ADDED", event.object) : undefined;
  if (now && before) return line("MODIFIED", event.object);
  if (now) return line("ADDED", event.object);
  if (before && event.prev !== undefined) {
    const last = {
      ...event.prev,
      metadata: { ...event.prev.metadata, resourceVersion: event.object.metadata.resourceVersion },
    };
    return line("DELETED", last);
  }
  return undefined;
}
