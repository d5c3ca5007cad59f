/**
 * The stand-in's etcd: objects per resource under one global revision counter, plus a
 * bounded history of changes. Every write gets the next revision, which becomes the
 * object's `metadata.resourceVersion`; watches replay the history after a revision, and
 * history older than the compaction point is gone (→ 410 Expired), as with etcd
 * compaction behind a real apiserver.
 */
import { deepClone, type StoredObject } from "./objects";
import { expired } from "./status";

export type StoreEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: StoreEventType;
  /** Resource key, e.g. `sojubouncers.irc.now` or `pods`. */
  resource: string;
  /** Revision of this change. */
  revision: number;
  /** The object after the change; for DELETED its last state, carrying the deletion revision. */
  object: StoredObject;
  /** The object before the change (absent for ADDED). */
  prev?: StoredObject;
}

export type StoreListener = (event: StoreEvent) => void;

export interface StoreOptions {
  /** How many changes to keep for watch resumption and consistent paging (default 10 000). */
  historyLimit?: number;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === "" ? name : `${namespace}/${name}`;
}

export function keyOf(obj: StoredObject): string {
  return objectKey(obj.metadata.namespace, obj.metadata.name);
}

export class ObjectStore {
  private revision = 1;
  private compactedRevision = 0;
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();
  private readonly pending: StoreEvent[] = [];
  private dispatching = false;
  private readonly historyLimit: number;

  constructor(options: StoreOptions = {}) {
    this.historyLimit = Math.max(1, options.historyLimit ?? 10_000);
  }

  /** The latest revision (what a list returns as the collection's resourceVersion). */
  get currentRevision(): number {
    return this.revision;
  }

  /** Revisions at or below this one are compacted: no watch or continue can start there. */
  get compactedThrough(): number {
    return this.compactedRevision;
  }

  get(resource: string, key: string): StoredObject | undefined {
    const obj = this.objects.get(resource)?.get(key);
    return obj === undefined ? undefined : deepClone(obj);
  }

  has(resource: string, key: string): boolean {
    return this.objects.get(resource)?.has(key) ?? false;
  }

  /** All objects of a resource in key order (etcd order), as of now or of a past revision. */
  list(resource: string, atRevision?: number): StoredObject[] {
    const current = this.objects.get(resource) ?? new Map<string, StoredObject>();
    let view: Map<string, StoredObject> = current;
    if (atRevision !== undefined && atRevision < this.revision) {
      this.assertRetained(atRevision);
      view = new Map(current);
      // Undo every later change, newest first.
      for (let i = this.history.length - 1; i >= 0; i--) {
        const event = this.history[i];
        if (event === undefined || event.revision <= atRevision) break;
        if (event.resource !== resource) continue;
        const key = keyOf(event.object);
        if (event.type === "ADDED") view.delete(key);
        else if (event.prev !== undefined) view.set(key, event.prev);
      }
    }
    return [...view.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => deepClone(obj));
  }

  /** Every object of every resource (for garbage collection and namespace checks). */
  *all(): Generator<{ resource: string; object: StoredObject }> {
    for (const [resource, objects] of this.objects) {
      for (const object of objects.values()) yield { resource, object };
    }
  }

  /** Changes after `revision`, oldest first. Throws 410 Expired if that history is compacted. */
  eventsAfter(revision: number): StoreEvent[] {
    this.assertRetained(revision);
    const events: StoreEvent[] = [];
    for (let i = this.history.length - 1; i >= 0; i--) {
      const event = this.history[i];
      if (event === undefined || event.revision <= revision) break;
      events.push(event);
    }
    return events.reverse();
  }

  /**
   * Writes a change under the next revision and tells every listener synchronously.
   * `object` is stored as given except for its resourceVersion. Returns the stored copy.
   */
  commit(resource: string, type: StoreEventType, object: StoredObject): StoredObject {
    let objects = this.objects.get(resource);
    if (objects === undefined) {
      objects = new Map();
      this.objects.set(resource, objects);
    }
    const key = keyOf(object);
    const prev = objects.get(key);
    this.revision += 1;
    const stored = deepClone(object);
    stored.metadata.resourceVersion = String(this.revision);
    if (type === "DELETED") objects.delete(key);
    else objects.set(key, stored);
    const event: StoreEvent = { type, resource, revision: this.revision, object: stored };
    if (prev !== undefined) event.prev = prev;
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRevision = Math.max(
        this.compactedRevision,
        dropped[dropped.length - 1]?.revision ?? 0,
      );
    }
    this.dispatch(event);
    return deepClone(stored);
  }

  /**
   * Delivers events in revision order to every listener. A listener that writes (e.g. a
   * simulated controller reacting to ADDED) re-enters `commit`; its event is queued and
   * delivered after the current one reached everyone, so no listener sees them reordered.
   */
  private dispatch(event: StoreEvent): void {
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(next);
          } catch (err) {
            // A faulty listener must not break the store; surface the bug instead.
            queueMicrotask(() => {
              throw err;
            });
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** Forgets history up to `revision` (default: all of it), like `etcdctl compact`. */
  compact(revision: number = this.revision): void {
    const through = Math.min(revision, this.revision);
    this.history = this.history.filter((e) => e.revision > through);
    this.compactedRevision = Math.max(this.compactedRevision, through);
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private assertRetained(revision: number): void {
    if (revision < this.compactedRevision) {
      throw expired(`too old resource version: ${revision} (${this.compactedRevision + 1})`);
    }
  }
}
