/**
 * What the worker needs from the outside world, as small interfaces. Production wires the real
 * clients (packages/k8s, packages/ergo, packages/soju, Drizzle, pg); tests wire the same clients
 * against the stand-ins. Reconcile logic only ever sees these.
 */
import type { SojuAdmin } from "@irc-now/soju";
import type { SojuBouncer } from "@irc-now/k8s";

export type { SojuAdmin };

/** The CR as the setup read it: the annotation patch is refused if the object changed since. */
export interface Precondition {
  uid: string;
  resourceVersion: string;
}

export interface BouncerStore {
  get(name: string): Promise<SojuBouncer | null>;
  list(): Promise<{ items: SojuBouncer[] }>;
  /** The bouncers labelled `irc.now/owner: <ownerId>` (a label-selected list, not all of them). */
  listByOwner(ownerId: string): Promise<{ items: SojuBouncer[] }>;
  /** Annotates `irc.now/upstream-configured`; 409 Conflict when the precondition fails. */
  markConfigured(name: string, precondition: Precondition): Promise<SojuBouncer>;
}

/** The ErgoAdmin port (packages/ergo). */
export interface ErgoPort {
  /** SAREGISTER: "exists" when ergo already has the account (a reserved name is an error). */
  register(account: string, password: string): Promise<"created" | "exists">;
  /** Oper PASSWD of an existing account. */
  resetPassword(account: string, password: string): Promise<void>;
  checkCredentials(account: string, password: string): Promise<boolean>;
  /** The account `nick` is logged in as, or null. */
  whois(nick: string): Promise<string | null>;
}

/** Read access to one bouncer's soju tenant DB (opened per use, always closed). */
export interface TenantDb {
  hasUser(username: string): Promise<boolean>;
  /** SASL PLAIN credentials soju stores for `username`'s network `network`, if any. */
  saslPlainCredentials(
    username: string,
    network: string,
  ): Promise<{ username: string; password: string } | null>;
  close(): Promise<void>;
}

export type OpenTenantDb = (bouncer: string) => Promise<TenantDb>;

/**
 * The per-user ergo credential (DESIGN.md §2 step 2): one Secret `irc-now-ergo-{username}` is
 * the only source of truth besides soju's DB and ergo itself.
 */
export interface CredentialStore {
  read(username: string): Promise<string | null>;
  /** Lookup-or-create; `candidate` runs only when no Secret exists. A lost create race reads the winner. */
  ensure(
    username: string,
    candidate: () => Promise<string>,
  ): Promise<{ password: string; created: boolean }>;
}

/** ergo accounts the portal owns (accounts DB `ergo_accounts`). */
export interface OwnershipStore {
  /** The owning user id, or null when the portal does not own the account. */
  ownerOf(account: string): Promise<string | null>;
  /** Records ownership unless the account is owned already; returns the owner after the call. */
  claim(
    account: string,
    ownerUserId: string,
    origin: "registered" | "adopted",
    adoptedBy?: string,
  ): Promise<string>;
}

/** A per-bouncer lock held for a whole setup (fencing: one setup per bouncer at a time). */
export interface SetupLock {
  /** Aborted when the lock is lost (its DB session ended): stop before touching anything else. */
  readonly lost: AbortSignal;
  /** Throws unless the lock is still held (checked right before the annotation). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

export interface SetupLocks {
  /** The lock, or null when another setup of this bouncer holds it. */
  tryAcquire(bouncerUid: string): Promise<SetupLock | null>;
  /** Lock ids currently held by this process (bookkeeping for status and tests). */
  readonly held: ReadonlySet<string>;
}

/** One SojuBouncer as the accounts DB's `bouncers` projection holds it. */
export interface ProjectedBouncer {
  namespace: string;
  name: string;
  uid: string;
  /** The owner label when it has the form of a portal user id (a uuid); else null. */
  ownerId: string | null;
  sojuUsername: string;
  /** The CR's creationTimestamp: between two CRs of one name, the later one wins. */
  createdAt: Date;
  /** The CR as seen (metadata without managedFields, spec, status), for readers of the row. */
  resource: Record<string, unknown>;
  resourceVersion: string | null;
}

/**
 * The accounts DB's `bouncers` table (what the soju auth endpoint and the dashboard read) and
 * `projection_heartbeats`. Writes are idempotent, so every worker replica may apply the same
 * watch events.
 */
export interface BouncerProjectionStore {
  /**
   * Inserts or updates the row of `row.name`. An owner id that is no portal user becomes null.
   * A row of another uid is replaced (suspension cleared) unless it belongs to a later CR; a row
   * of the same uid keeps its suspension. A row already at this resourceVersion (another
   * replica wrote it) is left alone, so one change is announced once.
   */
  upsert(row: ProjectedBouncer): Promise<void>;
  /** Deletes the row of `name` only while it is still the CR of `uid`. */
  remove(namespace: string, name: string, uid: string): Promise<void>;
  /**
   * Deletes the rows of `namespace` whose name is not in `names` and that nobody observed in the
   * last `graceS` seconds (another replica may have just written a CR this list predates).
   * Returns how many went.
   */
  removeAllExcept(namespace: string, names: readonly string[], graceS: number): Promise<number>;
  /** Records that `replica`'s projection has just written what its watch saw. */
  heartbeat(replica: string): Promise<void>;
}
