import pg from "pg";
import { poolTimeouts } from "@irc-now/db";
import type { SetupLock, SetupLocks } from "../ports/index";

export interface PgSetupLocksOptions {
  databaseUrl: string;
  /** Time to open a lock connection (5 000 ms). */
  connectTimeoutMs?: number;
  /** Statement deadline on the lock connections (10 000 ms). */
  statementTimeoutMs?: number;
  /**
   * Lock connections kept open between setups (12: the queue's default concurrency of 4 plus
   * the verify stage's 8, since a verifying setup still holds its lock).
   */
  maxIdle?: number;
}

/** The advisory-lock key of a bouncer's setup: 64 bits of the CR uid, namespaced. */
const KEY_SQL = "hashtextextended('irc-now/setup/' || $1, 0)";

/**
 * Per-bouncer setup locks as PostgreSQL session advisory locks, each on a connection of its own
 * held for the whole setup. Postgres releases a session lock when its connection ends, so a
 * crashed or partitioned worker can never keep a bouncer locked; and a worker whose connection
 * ended learns it (`lost`) and stops before annotating, because another worker may now hold it.
 * Any replica (a leader handing over, a standby taking over) sees the same lock, unlike the
 * Lease, which only says who should work, not who still is. Connections are reused between
 * setups (opening one costs more than the lock itself).
 */
export function pgSetupLocks(
  options: PgSetupLocksOptions,
): SetupLocks & { close(): Promise<void> } {
  const held = new Set<string>();
  const idle: pg.Client[] = [];
  const dead = new WeakSet<pg.Client>();
  /** What to do when a connection ends while it holds a lock. */
  const onGone = new Map<pg.Client, () => void>();
  const maxIdle = options.maxIdle ?? 12;

  const open = async () => {
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      ...poolTimeouts(options.statementTimeoutMs),
      application_name: "irc-now-worker setup lock",
    });
    const gone = () => {
      dead.add(client);
      const i = idle.indexOf(client);
      if (i >= 0) idle.splice(i, 1);
      onGone.get(client)?.();
    };
    client.on("error", gone);
    client.on("end", gone);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  };
  const take = async () => {
    for (let c = idle.pop(); c; c = idle.pop()) if (!dead.has(c)) return c;
    return open();
  };
  const give = async (client: pg.Client) => {
    if (dead.has(client) || idle.length >= maxIdle) await client.end().catch(() => undefined);
    else idle.push(client);
  };

  return {
    held,
    async tryAcquire(uid) {
      const client = await take();
      let locked: boolean;
      try {
        const { rows } = await client.query<{ ok: boolean }>(
          `SELECT pg_try_advisory_lock(${KEY_SQL}) AS ok`,
          [uid],
        );
        locked = rows[0]?.ok === true;
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      if (!locked) {
        await give(client);
        return null;
      }
      held.add(uid);
      const lost = new AbortController();
      onGone.set(client, () => {
        held.delete(uid);
        lost.abort(new Error("the setup lock's database session ended"));
      });
      let released = false;
      const lock: SetupLock = {
        lost: lost.signal,
        async assertHeld() {
          if (lost.signal.aborted) throw lost.signal.reason;
          const { rows } = await client.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks
              WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                AND ((classid::bigint << 32) | objid::bigint) = ${KEY_SQL}`,
            [uid],
          );
          if (rows[0]?.n !== 1) throw new Error("the setup lock is no longer held");
        },
        async release() {
          if (released) return;
          released = true;
          onGone.delete(client);
          held.delete(uid);
          // Only a connection that provably gave the lock back is reused; ending it frees it too.
          const unlocked = await client
            .query<{ ok: boolean }>(`SELECT pg_advisory_unlock(${KEY_SQL}) AS ok`, [uid])
            .then((r) => r.rows[0]?.ok === true)
            .catch(() => false);
          if (unlocked) await give(client);
          else await client.end().catch(() => undefined);
        },
      };
      return lock;
    },
    async close() {
      await Promise.all(idle.splice(0).map((c) => c.end().catch(() => undefined)));
    },
  };
}
