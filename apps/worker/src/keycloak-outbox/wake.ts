import pg from "pg";
import type { Logger } from "pino";

/** Migration 0007's trigger notifies here (no payload) whenever outbox rows are inserted. */
export const OUTBOX_CHANNEL = "irc_now_keycloak_outbox";

export interface WakeOptions {
  databaseUrl: string;
  /** The channel to LISTEN on (the outbox's by default; account deletions use their own). */
  channel?: string;
  onWake: () => void;
  log: Logger;
  /** Reconnect delays: doubling from `minMs` up to `maxMs` (500 ms … 30 s). */
  reconnect?: { minMs: number; maxMs: number };
}

/**
 * A dedicated `LISTEN irc_now_keycloak_outbox` connection that calls `onWake` on every
 * notification, and once after every (re)connection: notifications sent while it was down are
 * lost (Postgres keeps none for a new session). It reconnects for ever; the drain also polls, so
 * a dead or hung connection only delays a push by one poll interval. Plain `pg` rather than
 * pg-listen: that one cannot be bundled (pg-format loads files by `__dirname`).
 */
export function listenForOutbox(options: WakeOptions): { close(): Promise<void> } {
  const { minMs, maxMs } = options.reconnect ?? { minMs: 500, maxMs: 30_000 };
  const channel = options.channel ?? OUTBOX_CHANNEL;
  let closed = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const retry = () => {
    if (closed || timer) return;
    const delay = Math.min(maxMs, minMs * 2 ** Math.min(failures++, 16));
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({
      connectionString: options.databaseUrl,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
      application_name: `irc-now-worker ${channel}`,
    });
    client = c;
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      if (closed) return;
      options.log.warn({ error: why, channel }, "LISTEN connection lost; reconnecting");
      retry();
    };
    c.on("error", (error) => onLost(error.message));
    c.on("end", () => onLost("connection ended"));
    c.on("notification", (n) => {
      if (n.channel === channel) options.onWake();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
      if (closed) return void (await c.end().catch(() => undefined));
      failures = 0;
      options.onWake(); // anything inserted while we were not listening
    } catch (error) {
      onLost(error instanceof Error ? error.message : String(error));
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
