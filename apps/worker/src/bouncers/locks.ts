import pg from "pg";
import { poolTimeouts } from "@irc-now/db";
import type { SetupLock, SetupLocks } from "../ports/index";

export interface PgSetupLocksOptions {
  databaseUrl: string;
  /** Time to open the lock's connection (5 000 ms). */
  connectTimeoutMs?: number;
  /** Statement deadline on the lock's connection (10 000 ms). */
  statementTimeoutMs?: number;
}

/** The advisory-lock key of a bouncer's setup: 64 bits of the CR uid, namespaced. */
const KEY_SQL = "hashtextextended('irc-now/setup/' || $1, 0)";

/**
 * Per-bouncer setup locks as PostgreSQL session advisory locks, each on a dedicated connection
 * held for the whole setup. Postgres releases a session lock when its connection ends, so a
 * crashed or partitioned worker can never keep a bouncer locked; and a worker whose connection
 * ended learns it (`lost`) and stops before annotating, because another worker may now hold it.
 * Any replica (a leader handing over, a standby taking over) sees the same lock, unlike the
 * Lease, which only says who should work, not who still is.
 */
export function pgSetupLocks(options: PgSetupLocksOptions): SetupLocks {
  const held = new Set<string>();
  return {
    held,
    async tryAcquire(uid) {
      const client = new pg.Client({
        connectionString: options.databaseUrl,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
        ...poolTimeouts(options.statementTimeoutMs),
        application_name: "irc-now-worker setup lock",
      });
      const lost = new AbortController();
      const onGone = () => {
        held.delete(uid);
        lost.abort(new Error("the setup lock's database session ended"));
      };
      client.on("error", onGone);
      client.on("end", onGone);
      try {
        await client.connect();
        const { rows } = await client.query<{ ok: boolean }>(
          `SELECT pg_try_advisory_lock(${KEY_SQL}) AS ok`,
          [uid],
        );
        if (!rows[0]?.ok) {
          client.removeListener("end", onGone);
          await client.end().catch(() => undefined);
          return null;
        }
      } catch (error) {
        client.removeListener("end", onGone);
        await client.end().catch(() => undefined);
        throw error;
      }
      held.add(uid);
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
          client.removeListener("end", onGone);
          held.delete(uid);
          // Ending the session releases the lock too: unlock first only to be quick about it.
          await client.query(`SELECT pg_advisory_unlock(${KEY_SQL})`, [uid]).catch(() => undefined);
          await client.end().catch(() => undefined);
        },
      };
      return lock;
    },
  };
}
