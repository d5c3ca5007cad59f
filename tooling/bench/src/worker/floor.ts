/**
 * The wire floor: the calls the upstream setup of docs/upstream-setup.md cannot do without,
 * issued bare, in order, by a minimal script — and with the very clients the worker uses (its
 * `wire()`: client-node, pg/Drizzle, packages/ergo's IRC oper session, packages/soju's sojuctl
 * over exec), so the difference to the worker is the worker's own overhead, not a client's.
 * Per bouncer, starting from the object a watch delivered (uid, resourceVersion, owner label):
 *   lock          `pg_try_advisory_lock` on a kept-open accounts-DB connection (see below)
 *   secret        read `{name}-db` (client-node)
 *   tenantDb      one SELECT on the tenant DB: soju's user exists, and the irc.now SASL PLAIN
 *                 credential this bouncer stores (the adoption candidate) in the same round trip
 *   credential    Secret `irc-now-ergo-{username}`: read; only when there is none, the owner's
 *                 bouncers (one label-selected LIST: adoption needs the user's other bouncers'
 *                 stored passwords; here it returns this bouncer only), then the create
 *   ownerLookup   `ergo_accounts` owner of the account (accounts DB)
 *   ergoRegister  SAREGISTER; `created` → claim the account (INSERT into `ergo_accounts`);
 *                 `exists` → oper PASSWD when owned by this user (not reached here: every bench
 *                 user is new)
 *   ergoSaslCheck SASL PLAIN login with the password
 *   soju…         `network create` (disabled), `sasl set-plain`, `network update -enabled true`:
 *                 three exec sessions (today's floor) or one (`sojuRoundTrips: 1`)
 *   annotate      merge patch of `irc.now/upstream-configured` carrying the uid and
 *                 resourceVersion read (on 409: GET, and again on the fresh object if it is
 *                 still the same bouncer, unannotated)
 *   lockRelease   `pg_advisory_unlock` (after the annotation; not in Ready → annotated)
 *
 * The advisory lock is in the floor: fencing is part of the setup's contract (one setup of a
 * bouncer at a time across replicas; the annotation's precondition fences only the last write,
 * not the ergo and soju changes before it), and a session lock costs at least its acquire and
 * release round trips. What is not in it is how the worker implements the lock: it opens a new
 * PostgreSQL connection per setup (TCP + authentication + backend start) and re-checks
 * `pg_locks` right before the annotation; a pool of kept-open connections gives the same
 * guarantee for a session lock held for the whole setup, and the precondition already refuses
 * an annotation of an object that changed. So those costs show up as worker overhead (the
 * worker's `lock` step in the bench's per-step timings).
 *
 * Not in the floor: attempt recording, the step-6 verification after the annotation (soju
 * `sasl status` + WHOIS), retries, logging, the reserved-name checks (no wire call), the
 * reconcile's GET of the object: the object comes from a watch (latency: the API stand-in's
 * in-process watch; migration: one LIST before all setups, inside the measured time).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { and, eq } from "drizzle-orm";
import { closeSojuDb, createAccountsDb, createSojuDb, soju, type AccountsDb } from "@irc-now/db";
import {
  isConfigured,
  isConflict,
  LABEL_OWNER,
  readTenantDbUrl,
  type SojuBouncer,
} from "@irc-now/k8s";
import type { Wiring } from "../../../../apps/worker/src/wiring";

export interface FloorClients {
  w: Wiring;
  namespace: string;
  upstreamAddr: string;
  network: string;
  /** Kept-open accounts-DB connections for the setup locks (one per concurrent setup). */
  lockPool: AccountsDb["$client"];
  /**
   * The soju step as three exec round trips, one per command (the setup before issue 17: the
   * floor the new setup is measured against), or as one (`applyUpstreamNetwork`, what the
   * worker does now: the floor of its own overhead). Default 3.
   */
  sojuRoundTrips?: 1 | 3;
}

/** The worker's lock key (apps/worker/src/bouncers/locks.ts), so both contend for the same locks. */
const KEY_SQL = "hashtextextended('irc-now/setup/' || $1, 0)";

/** A pool of `size` accounts-DB connections (the worker's pool settings) for the floor's locks. */
export function createLockPool(databaseUrl: string, size: number): AccountsDb["$client"] {
  return createAccountsDb(databaseUrl, { max: size, connectionTimeoutMillis: 2_000 }).$client;
}

/** Reports each step's duration (ms) to `onLap`, when given. */
export async function floorSetup(
  c: FloorClients,
  bouncer: SojuBouncer,
  onLap?: (step: string, ms: number) => void,
): Promise<void> {
  const { w, namespace, network } = c;
  const { name, uid, resourceVersion } = bouncer.metadata;
  const username = bouncer.spec.username;
  const ownerId = bouncer.metadata.labels?.[LABEL_OWNER];
  if (!uid || !resourceVersion || !ownerId)
    throw new Error(`${name}: no uid, resourceVersion or ${LABEL_OWNER} label`);
  let mark = performance.now();
  const lap = (step: string) => {
    const now = performance.now();
    onLap?.(step, now - mark);
    mark = now;
  };

  const setupLocked = async (): Promise<void> => {
    const url = await readTenantDbUrl(w.kube.core, namespace, name);
    lap("secret");
    const db = createSojuDb(url, { max: 1 });
    let stored: string | null = null;
    try {
      const rows = await db
        .select({
          user: soju.sojuUser.id,
          mechanism: soju.sojuNetwork.saslMechanism,
          saslUser: soju.sojuNetwork.saslPlainUsername,
          password: soju.sojuNetwork.saslPlainPassword,
        })
        .from(soju.sojuUser)
        .leftJoin(
          soju.sojuNetwork,
          and(eq(soju.sojuNetwork.user, soju.sojuUser.id), eq(soju.sojuNetwork.name, network)),
        )
        .where(eq(soju.sojuUser.username, username));
      const row = rows[0];
      if (!row) throw new Error(`${name}: soju has no user ${username}`);
      if (row.mechanism === "PLAIN" && row.saslUser === username) stored = row.password;
    } finally {
      await closeSojuDb(db);
    }
    lap("tenantDb");

    const { password } = await w.deps.credentials.ensure(username, async () => {
      // Adoption candidates: the stored passwords of the owner's bouncers. This one's came with
      // the tenant DB check; the LIST finds the others (none in the bench: one bouncer per user).
      const { items } = await w.bouncers.listByOwner(ownerId);
      if (items.some((b) => b.metadata.name !== name && b.spec.username === username))
        throw new Error(`${name}: the floor models one bouncer per user`);
      if (stored && (await w.deps.ergo.checkCredentials(username, stored))) return stored;
      return randomBytes(24).toString("base64url");
    });
    lap("credential");

    const owner = await w.deps.ownership.ownerOf(username);
    if (owner !== null && owner !== ownerId)
      throw new Error(`${name}: ergo account ${username} is owned by another user`);
    lap("ownerLookup");
    let proven = false;
    if ((await w.deps.ergo.register(username, password)) === "created") {
      if ((await w.deps.ownership.claim(username, ownerId, "registered")) !== ownerId)
        throw new Error(`${name}: ergo account ${username} was claimed by another user`);
    } else if (owner === ownerId) {
      await w.deps.ergo.resetPassword(username, password);
    } else {
      if (!(await w.deps.ergo.checkCredentials(username, password)))
        throw new Error(`${name}: ergo account ${username} exists and is not owned`);
      await w.deps.ownership.claim(username, ownerId, "registered");
      proven = true;
    }
    lap("ergoRegister");
    if (!proven && !(await w.deps.ergo.checkCredentials(username, password)))
      throw new Error(`ergo refused the credentials of ${username}`);
    lap("ergoSaslCheck");

    if (c.sojuRoundTrips === 1) {
      await w.deps.soju.applyUpstreamNetwork(
        name,
        username,
        { name: network, addr: c.upstreamAddr, nick: username, username },
        { username, password },
      );
      lap("sojuApply");
    } else {
      await w.deps.soju.createOrUpdateNetwork(name, username, {
        name: network,
        addr: c.upstreamAddr,
        nick: username,
        username,
        enabled: false,
      });
      lap("sojuNetworkCreate");
      await w.deps.soju.setSaslPlain(name, username, network, username, password);
      lap("sojuSaslSetPlain");
      await w.deps.soju.enableNetwork(name, username, network);
      lap("sojuNetworkEnable");
    }

    let current = { uid, resourceVersion };
    for (let i = 0; ; i++) {
      try {
        await w.bouncers.markConfigured(name, current);
        break;
      } catch (error) {
        if (!isConflict(error) || i === 2) throw error;
        const fresh = await w.bouncers.get(name);
        if (!fresh || fresh.metadata.uid !== uid || isConfigured(fresh))
          throw new Error(`${name}: the bouncer changed during setup`);
        current = { uid, resourceVersion: fresh.metadata.resourceVersion! };
      }
    }
    lap("annotate");
  };

  const lockConn = await c.lockPool.connect();
  try {
    const { rows } = await lockConn.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(${KEY_SQL}) AS ok`,
      [uid],
    );
    if (!rows[0]?.ok) throw new Error(`${name}: setup lock taken`);
    lap("lock");
    try {
      await setupLocked();
    } finally {
      mark = performance.now();
      await lockConn.query(`SELECT pg_advisory_unlock(${KEY_SQL})`, [uid]);
      lap("lockRelease");
    }
  } finally {
    lockConn.release();
  }
}
