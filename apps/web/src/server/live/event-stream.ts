import type { BouncerChangeFeed } from "./bouncer-changes";

export interface EventStreamOptions {
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
  /**
   * The stream ends after this long and the browser's EventSource reconnects, which signs the
   * request in again: a signed-out or cut-off session stops receiving within this bound.
   */
  maxLifetimeMs?: number;
}

/** One server-sent event (`event:` + `data:` lines; the data is single-line JSON). */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The live-status stream of one owner's dashboard: `change` with a bouncer's name when it
 * changed, `resync` when changes may have been missed, `state` with whether the feed is live
 * (the client polls slowly while it is, quickly while not). It carries names only; the client
 * refetches through the usual, ownership-checked query.
 */
export function bouncerEventStream(
  feed: BouncerChangeFeed,
  ownerId: string,
  signal: AbortSignal,
  options: EventStreamOptions = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const heartbeatMs = options.heartbeatMs ?? 25_000;
  const maxLifetimeMs = options.maxLifetimeMs ?? 10 * 60_000;
  let cleanup = () => undefined as void;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      let lastLive: boolean | undefined;
      const send = (chunk: string) => {
        if (!open) return;
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          cleanup();
        }
      };
      const sendState = () => {
        if (feed.live === lastLive) return;
        lastLive = feed.live;
        send(frame("state", { live: feed.live }));
      };
      const unsubscribe = feed.subscribe(ownerId, {
        onChange: (change) => send(frame("change", { name: change.name })),
        onResync: () => {
          sendState();
          send(frame("resync", {}));
        },
      });
      // The feed's liveness also changes without an event (a dropped connection).
      const heartbeat = setInterval(() => {
        sendState();
        send(": keep-alive\n\n");
      }, heartbeatMs);
      const lifetime = setTimeout(() => cleanup(), maxLifetimeMs);
      cleanup = () => {
        if (!open) return;
        open = false;
        clearInterval(heartbeat);
        clearTimeout(lifetime);
        unsubscribe();
        signal.removeEventListener("abort", cleanup);
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      signal.addEventListener("abort", cleanup);
      // Reconnect after 3 s when the stream ends or breaks (EventSource's own retry).
      send("retry: 3000\n\n");
      sendState();
    },
    cancel() {
      cleanup();
    },
  });
}
