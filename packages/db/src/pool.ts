import pg from "pg";

/**
 * A pg Pool that survives a connection dying under a transaction, which drizzle-orm 0.45's
 * pooled `transaction()` and pg-pool do not on their own:
 * - pg-pool listens for a client's `error` only while the client is idle. A client checked out
 *   by a transaction whose connection dies (a DB restart, a failover) emits `error` with nobody
 *   listening, an uncaught exception that ends the process. Every client here keeps a listener
 *   for its whole life; the queries in flight still reject with the error.
 * - drizzle runs BEGIN before the try/finally that releases the client
 *   (drizzle-team/drizzle-orm#6241, open in 0.45.4): a BEGIN that fails never gives the client
 *   back, so the pool loses that slot for good and `end()` waits for it forever. And after a
 *   failed ROLLBACK it gives the client back as healthy (#6114), so the next checkout may get a
 *   connection still busy with the timed-out statement. Here a failed BEGIN or ROLLBACK destroys
 *   the client (released with the error), and a later release of it is a no-op.
 */
export function createPool(config: pg.PoolConfig): pg.Pool {
  const pool = new GuardedPool(config);
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
    guardTransactionStatements(client);
  });
  return pool;
}

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: Error | boolean) => void,
) => void;

class GuardedPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    if (!callback) return super.connect().then(idempotentRelease);
    super.connect((err, client, done) => {
      if (!client) return callback(err, client, done);
      idempotentRelease(client);
      callback(err, client, client.release);
    });
  }
}

const TRANSACTION_CONTROL = /^\s*(begin|rollback)\b/i;

/** A failed BEGIN or ROLLBACK on a checked-out client releases it with the error: destroyed. */
function guardTransactionStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const result = query(...args);
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: unknown } | null)?.text;
    if (typeof text !== "string" || !TRANSACTION_CONTROL.test(text) || !isPromise(result))
      return result;
    return result.catch((error: unknown) => {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
  };
}

/** pg-pool throws on a second release; after the guard's, the caller's own must do nothing. */
function idempotentRelease(client: pg.PoolClient): pg.PoolClient {
  const release = client.release; // this checkout's (pg-pool sets a new one per checkout)
  let released = false;
  client.release = (error?: Error | boolean) => {
    if (released) return;
    released = true;
    release(error);
  };
  return client;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | null)?.then === "function";
}
