import createPostgresSubscriber, { type Subscriber } from "pg-listen";
import { z } from "zod";

/** The channel migration 0004's triggers notify on. */
export const BOUNCER_CHANGES_CHANNEL = "irc_now_bouncer_changes";

const changeSchema = z.object({
  owner: z.uuid(),
  namespace: z.string(),
  name: z.string(),
});
export type BouncerChange = z.infer<typeof changeSchema>;

export interface ChangeSubscription {
  /** One of this owner's bouncers changed. */
  onChange(change: BouncerChange): void;
  /** Changes may have been missed (the feed reconnected): refetch everything. */
  onResync(): void;
}

export interface BouncerChangeFeed {
  /** True while the feed's LISTEN connection is up; readers fall back to polling otherwise. */
  readonly live: boolean;
  subscribe(ownerId: string, subscription: ChangeSubscription): () => void;
  /** Subscriptions across all owners (a gauge for /metrics and the bench). */
  readonly subscribers: number;
  close(): Promise<void>;
}

export interface FeedOptions {
  /** How often the connection is probed (a hung connection looks alive otherwise). */
  probeIntervalMs?: number;
  log?: (message: string) => void;
}

/**
 * One LISTEN connection per web process, fanned out in memory to the open dashboards of each
 * owner. Connected on first use; pg-listen reconnects for ever with capped backoff, and every
 * (re)connection tells all subscribers to resync, since notifications sent while the
 * connection was down are lost (Postgres does not queue them for a new session).
 */
export function bouncerChangeFeed(
  databaseUrl: string,
  options: FeedOptions = {},
): BouncerChangeFeed {
  const log = options.log ?? ((message: string) => console.warn(message));
  const byOwner = new Map<string, Set<ChangeSubscription>>();
  let subscriber: Subscriber | undefined;
  let live = false;
  let closed = false;
  let starting: Promise<void> | undefined;

  const everyone = () => [...byOwner.values()].flatMap((set) => [...set]);
  const resyncAll = () => {
    for (const s of everyone()) s.onResync();
  };

  async function start(attempt = 0): Promise<void> {
    if (closed) return;
    const sub = createPostgresSubscriber(
      // A probe that never answers must fail, not hang: then pg-listen reconnects.
      { connectionString: databaseUrl, query_timeout: 5_000, connectionTimeoutMillis: 5_000 },
      {
        paranoidChecking: options.probeIntervalMs ?? 10_000,
        retryInterval: (n) => Math.min(500 * 2 ** n, 10_000),
        retryTimeout: 0, // never give up
        // Raw payloads: a malformed one is dropped here, not reported as a connection error.
        parse: (text: string) => text,
      },
    );
    // pg-listen reports "error" only when re-initialising after a connection loss failed (then
    // it stops trying): start over with a new subscriber.
    sub.events.on("error", (error) => {
      live = false;
      log(`live status feed lost its connection: ${error.message}`);
      if (subscriber === sub) {
        subscriber = undefined;
        void sub.close().catch(() => undefined);
        void start(attempt + 1);
      }
    });
    sub.events.on("reconnect", () => {
      live = false;
    });
    sub.events.on("connected", () => {
      if (subscriber !== sub) return; // the first connection: live once LISTEN is in place
      live = true;
      resyncAll();
    });
    sub.notifications.on(BOUNCER_CHANGES_CHANNEL, (payload: string) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        return; // not ours: the triggers only send JSON
      }
      const change = changeSchema.safeParse(parsed);
      if (!change.success) return;
      for (const s of byOwner.get(change.data.owner) ?? []) s.onChange(change.data);
    });
    try {
      await sub.connect();
      await sub.listenTo(BOUNCER_CHANGES_CHANNEL);
      if (closed) return void (await sub.close());
      subscriber = sub;
      // "connected" fired before LISTEN: only now can nothing be missed any more.
      live = true;
      resyncAll();
    } catch (error) {
      await sub.close().catch(() => undefined);
      log(`live status feed cannot connect: ${(error as Error).message}`);
      // pg-listen retries only a connection it once had: the first one is ours to retry.
      await new Promise((r) => setTimeout(r, Math.min(1_000 * 2 ** attempt, 15_000)).unref());
      return start(attempt + 1);
    }
  }

  return {
    get live() {
      return live;
    },
    get subscribers() {
      return everyone().length;
    },
    subscribe(ownerId, subscription) {
      starting ??= start();
      let set = byOwner.get(ownerId);
      if (!set) byOwner.set(ownerId, (set = new Set()));
      set.add(subscription);
      return () => {
        set.delete(subscription);
        if (set.size === 0 && byOwner.get(ownerId) === set) byOwner.delete(ownerId);
      };
    },
    async close() {
      closed = true;
      live = false;
      byOwner.clear();
      await subscriber?.close().catch(() => undefined);
    },
  };
}
