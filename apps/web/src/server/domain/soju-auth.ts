import { isIP } from "node:net";
import { and, eq, sql } from "drizzle-orm";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { accounts, type AccountsDb } from "@irc-now/db";
import { type AppPasswordHasher, lookupOf } from "./app-passwords";
import { bouncerNameSchema } from "./names";

/**
 * soju's `auth http` check (DESIGN.md §2; facts/soju.md §8): on every IRC client login a
 * bouncer's soju POSTs `Authorization: Basic b64(user:pass)` (suffixes already stripped) with
 * `Forwarded` / `X-Forwarded-For`. 200 = accepted, 403 = refused, anything else = an error on
 * our side (soju tells the client "Authentication failed").
 *
 * Hot path: one indexed query (app_passwords by its unique `lookup`, joined to the bouncers
 * projection by its primary key), no Kubernetes call, a fast keyed hash. It never logs the
 * password or the Authorization header.
 */

export type SojuAuthAnswer =
  | { status: 200; passwordId: string }
  | { status: 403; reason: SojuAuthRefusal }
  | { status: 503; reason: "db_unavailable" };

export type SojuAuthRefusal =
  | "malformed"
  | "unknown_bouncer"
  | "wrong_user"
  | "wrong_password"
  | "revoked"
  | "expired"
  | "out_of_scope"
  | "suspended"
  | "rate_limited";

export interface SojuAuthDeps {
  db: AccountsDb;
  namespace: string;
  hasher: AppPasswordHasher;
  limits?: SojuAuthLimits;
  /** Last use is written at most this often per password and address (60 s). */
  lastUseIntervalMs?: number;
  /** Where a fault is reported (console.error); never given a credential. */
  log?: (line: string) => void;
}

/**
 * Failure budgets, kept in this process's memory: a DB round trip per login just for the
 * limiter would double the hot path's queries, and a per-replica budget is enough here — the
 * tokens' 190 random bits make online guessing hopeless anyway; the limits keep a misbehaving
 * client or a scanner from costing DB time and flooding logs. Per address is the tight one; per
 * user is looser so one noisy address cannot lock a user out of all their devices.
 */
export class SojuAuthLimits {
  readonly perAddress: RateLimiterMemory;
  readonly perUser: RateLimiterMemory;
  constructor(
    options: { addressFailures?: number; userFailures?: number; durationS?: number } = {},
  ) {
    const duration = options.durationS ?? 60;
    this.perAddress = new RateLimiterMemory({
      keyPrefix: "soju-auth-address",
      points: options.addressFailures ?? 20,
      duration,
    });
    this.perUser = new RateLimiterMemory({
      keyPrefix: "soju-auth-user",
      points: options.userFailures ?? 60,
      duration,
    });
  }

  async blocked(user: string, address: string): Promise<boolean> {
    const [a, u] = await Promise.all([this.perAddress.get(address), this.perUser.get(user)]);
    return (
      (a?.consumedPoints ?? 0) >= this.perAddress.points ||
      (u?.consumedPoints ?? 0) >= this.perUser.points
    );
  }

  /** Counts one failure; penalty never throws when the budget is spent (unlike consume). */
  async failed(user: string, address: string): Promise<void> {
    await Promise.all([this.perAddress.penalty(address, 1), this.perUser.penalty(user, 1)]);
  }
}

const defaultLimits = new SojuAuthLimits();

/** `user:pass` from a Basic header; null for anything malformed (never throws). */
export function basicCredentials(header: string | null): { user: string; password: string } | null {
  if (!header) return null;
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, "base64").toString("latin1");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return null;
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // Our usernames and tokens are printable ASCII: anything else is junk, refused unread.
  if (!password || !/^[\x21-\x7e]+$/.test(user) || !/^[\x21-\x7e]+$/.test(password)) return null;
  return { user, password };
}

/**
 * The client's address as soju forwards it (`Forwarded: for="1.2.3.4:5678"`, RFC 7239, else
 * the first `X-Forwarded-For` entry), without the port; "unknown" when neither is an IP. Only
 * soju can reach this endpoint, so the headers are soju's own.
 */
export function forwardedAddress(headers: Headers): string {
  const forwarded = headers.get("forwarded");
  const candidates: string[] = [];
  if (forwarded) {
    const m = /(?:^|[;,\s])for=("[^"]*"|[^;,\s]+)/i.exec(forwarded);
    if (m) candidates.push(m[1]!.replace(/^"|"$/g, ""));
  }
  const xff = headers.get("x-forwarded-for");
  if (xff) candidates.push(xff.split(",")[0]!.trim());
  for (const raw of candidates) {
    const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(raw);
    const host = bracketed
      ? bracketed[1]!
      : /^[^:]+:\d+$/.test(raw)
        ? raw.slice(0, raw.lastIndexOf(":"))
        : raw;
    if (isIP(host)) return host;
  }
  return "unknown";
}

/** Passwords whose last use was written recently by this process: the debounce. */
const recentlyWritten = new Map<string, number>();

function findLogin(db: AccountsDb, namespace: string, bouncer: string, lookup: string) {
  const p = accounts.appPasswords;
  const b = accounts.bouncers;
  return db
    .select({
      id: p.id,
      userId: p.userId,
      secretHash: p.secretHash,
      scope: p.bouncer,
      revoked: sql<boolean>`${p.revokedAt} IS NOT NULL`,
      expired: sql<boolean>`${p.expiresAt} IS NOT NULL AND ${p.expiresAt} <= now()`,
      lastUsedAt: p.lastUsedAt,
      lastUsedFrom: p.lastUsedFrom,
      ownerId: b.ownerId,
      sojuUsername: b.sojuUsername,
      suspended: sql<boolean>`${b.suspendedAt} IS NOT NULL`,
    })
    .from(p)
    .leftJoin(b, and(eq(b.namespace, namespace), eq(b.name, bouncer)))
    .where(eq(p.lookup, lookup))
    .limit(1);
}

/** soju's question, answered: see the file comment. */
export async function checkSojuLogin(
  deps: SojuAuthDeps,
  request: { bouncer: string; authorization: string | null; headers: Headers },
): Promise<SojuAuthAnswer> {
  const limits = deps.limits ?? defaultLimits;
  const address = forwardedAddress(request.headers);
  const credentials = basicCredentials(request.authorization);
  const bouncer = bouncerNameSchema.safeParse(request.bouncer);
  if (!credentials || !bouncer.success) {
    await limits.failed("", address);
    return { status: 403, reason: "malformed" };
  }
  const { user, password } = credentials;
  if (await limits.blocked(user, address)) return { status: 403, reason: "rate_limited" };

  const refuse = async (reason: SojuAuthRefusal): Promise<SojuAuthAnswer> => {
    await limits.failed(user, address);
    return { status: 403, reason };
  };
  const lookup = lookupOf(password);
  if (!lookup) return refuse("wrong_password");

  let row: Awaited<ReturnType<typeof findLogin>>[number] | undefined;
  try {
    [row] = await findLogin(deps.db, deps.namespace, bouncer.data, lookup);
  } catch (error) {
    // The pg error code or name only: a driver message may quote the query's parameters.
    const cause = (error as { cause?: { code?: string } }).cause;
    (deps.log ?? console.error)(
      `soju auth: accounts DB unavailable (${cause?.code ?? (error as Error).name})`,
    );
    return { status: 503, reason: "db_unavailable" };
  }
  // The hash is always compared first, so every refusal below costs the same work.
  if (!row || !deps.hasher.matches(password, row.secretHash)) return refuse("wrong_password");
  if (row.sojuUsername === null) return refuse("unknown_bouncer");
  if (row.ownerId !== row.userId || user !== row.sojuUsername) return refuse("wrong_user");
  if (row.revoked) return refuse("revoked");
  if (row.expired) return refuse("expired");
  if (row.scope !== null && row.scope !== bouncer.data) return refuse("out_of_scope");
  if (row.suspended) return refuse("suspended");

  recordLastUse(deps, row, address);
  return { status: 200, passwordId: row.id };
}

/**
 * Stamps last use without a write per connect storm: skipped when the row (as just read) or
 * this process wrote it within the interval from the same address. Fire and forget: the answer
 * never waits for it, and a failure only delays the stamp.
 */
function recordLastUse(
  deps: SojuAuthDeps,
  row: { id: string; lastUsedAt: Date | null; lastUsedFrom: string | null },
  address: string,
): void {
  const interval = deps.lastUseIntervalMs ?? 60_000;
  const now = Date.now();
  const key = `${row.id} ${address}`;
  const fresh =
    row.lastUsedFrom === address &&
    row.lastUsedAt !== null &&
    now - row.lastUsedAt.getTime() < interval;
  if (fresh || now - (recentlyWritten.get(key) ?? 0) < interval) return;
  recentlyWritten.set(key, now);
  if (recentlyWritten.size > 10_000) {
    for (const [k, at] of recentlyWritten) if (now - at >= interval) recentlyWritten.delete(k);
  }
  deps.db
    .update(accounts.appPasswords)
    .set({ lastUsedAt: sql`now()`, lastUsedFrom: address })
    .where(eq(accounts.appPasswords.id, row.id))
    .then(
      () => undefined,
      (error: unknown) => {
        recentlyWritten.delete(key);
        const cause = (error as { cause?: { code?: string } }).cause;
        (deps.log ?? console.error)(
          `soju auth: could not record last use (${cause?.code ?? (error as Error).name})`,
        );
      },
    );
}
