/**
 * `SOJU_ADMIN=sql-restart`: the network/SASL/user effect of the BouncerServ commands written
 * straight into the bouncer's tenant DB with Drizzle, then the bouncer's pods are deleted so soju
 * restarts and loads the rows (soju reads users and networks only at start-up, facts/soju.md §3).
 *
 * Keyed on soju's unique ("user", name); `sasl_mechanism = 'PLAIN'` (upper case: the enum rejects
 * 'plain'); empty strings become NULL as soju writes them; passwords as bcrypt `$2a$10$`.
 *
 * Limitations, by construction: `userRun` is unsupported (no BouncerServ here); `saslStatus` and
 * `networkStatus` read the DB, which knows whether a network is enabled but not whether soju is
 * connected or logged in upstream — an enabled network reports state `unknown` (verify the
 * upstream login through ergo's WHOIS instead). Every write restarts soju, dropping its
 * downstream connections. A restart happens only when at least one pod matched the selector; with
 * none, the change applies when soju next starts.
 */
import bcrypt from "bcryptjs";
import { and, asc, eq, sql } from "drizzle-orm";
import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { closeSojuDb, createSojuDb, sojuNetwork, sojuUser, type SojuDb } from "@irc-now/db/soju";
import { describeKubeError, findBouncerPods, isNotFound } from "@irc-now/k8s";
import { assertNetworkName, networkFlags } from "./admin";
import { errorText, silentLogger, type SojuLogger } from "./logger";
import {
  SojuCommandFailed,
  SojuInvalidArgument,
  SojuUnavailable,
  SojuUnsupported,
  type NetworkSpec,
  type NetworkStatus,
  type SaslStatus,
  type SojuAdmin,
} from "./port";
import { redactWords, scrubError, secretsOf } from "./scrub";
import { assertSendable } from "./words";

export interface SqlRestartOptions {
  core: CoreV1Api;
  namespace: string;
  /** `SOJU_POD_SELECTOR`, `{name}` = bouncer. */
  podSelector: string;
  /** The bouncer's tenant DB URL (packages/k8s `readTenantDbUrl`). */
  tenantDbUrl: (bouncer: string) => Promise<string>;
  logger?: SojuLogger;
}

/** Go's bcrypt.DefaultCost, what soju hashes with (facts §3). */
const BCRYPT_COST = 10;

const nullIfEmpty = (value: string | undefined): string | null =>
  value === undefined || value === "" ? null : value;

/** Go's %q for the texts soju would answer (close enough for ASCII names). */
const quoted = (value: string): string => JSON.stringify(value);

/** soju's addr check (facts §4): only ircs, irc+insecure and unix schemes; no scheme = ircs. */
export function checkAddr(addr: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(addr)?.[1];
  if (scheme !== undefined && !["ircs", "irc+insecure", "unix"].includes(scheme)) {
    throw new SojuCommandFailed(
      `unknown scheme ${quoted(scheme)} (supported schemes: ircs, irc+insecure, unix)`,
    );
  }
}

/** A bcrypt hash as Go writes it (`$2a$10$…`). Go refuses passwords over 72 bytes. */
export async function hashPassword(password: string): Promise<string> {
  if (Buffer.byteLength(password, "utf8") > 72)
    throw new SojuCommandFailed(
      "failed to hash password: bcrypt: password length exceeds 72 bytes",
    );
  const hash = await bcrypt.hash(password, BCRYPT_COST);
  // bcryptjs writes $2b$; for ≤ 72 bytes $2a$ and $2b$ are the same computation.
  return hash.replace(/^\$2b\$/, "$2a$");
}

interface PgErrorLike {
  code?: string;
  constraint?: string;
  message: string;
}

function pgErrorOf(error: unknown): PgErrorLike | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if ("code" in e && typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code))
      return e as PgErrorLike;
  }
  return undefined;
}

/**
 * A DB failure as a typed error. Never Drizzle's own message: it lists the query parameters
 * (passwords, hashes).
 */
function dbError(error: unknown, action: string): Error {
  if (
    error instanceof SojuCommandFailed ||
    error instanceof SojuUnavailable ||
    error instanceof SojuInvalidArgument
  )
    return error;
  const pgError = pgErrorOf(error);
  if (pgError?.code === "23505") {
    return new SojuCommandFailed(
      `could not ${action}: pq: duplicate key value violates unique constraint ${quoted(pgError.constraint ?? "?")}`,
    );
  }
  if (pgError)
    return new SojuUnavailable(`tenant DB: ${pgError.code ?? ""} ${pgError.message}`.trim());
  const code =
    error instanceof Error && "code" in error && typeof error.code === "string"
      ? error.code
      : undefined;
  return new SojuUnavailable(`tenant DB unreachable${code ? `: ${code}` : ""}`);
}

export class SqlRestartAdmin implements SojuAdmin {
  private readonly log: SojuLogger;

  constructor(private readonly options: SqlRestartOptions) {
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Runs `fn` on a fresh connection to the bouncer's tenant DB; `words` are the BouncerServ
   * command this stands for (validated like the other adapters, logged without secrets).
   */
  private async guarded<T>(
    bouncer: string,
    words: string[],
    action: string,
    fn: (db: SojuDb) => Promise<T>,
  ): Promise<T> {
    const secrets = secretsOf(words);
    const command = redactWords(words).join(" ");
    try {
      assertSendable(words);
      this.log.debug({ bouncer, command }, "soju change through SQL");
      let url: string;
      try {
        url = await this.options.tenantDbUrl(bouncer);
      } catch (error) {
        throw new SojuUnavailable(
          `could not find the tenant DB of bouncer ${bouncer}: ${describeKubeError(error)}`,
        );
      }
      const db = createSojuDb(url, { max: 1 });
      try {
        return await fn(db);
      } catch (error) {
        throw dbError(error, action);
      } finally {
        await closeSojuDb(db).catch(() => undefined);
      }
    } catch (error) {
      const safe = scrubError(error, secrets);
      const level = safe instanceof SojuUnavailable ? "warn" : "debug";
      this.log[level](
        { bouncer, command, error: errorText(safe) },
        "soju change through SQL failed",
      );
      throw safe;
    }
  }

  private async userId(db: SojuDb, username: string): Promise<{ id: number; enabled: boolean }> {
    const [row] = await db
      .select({ id: sojuUser.id, enabled: sojuUser.enabled })
      .from(sojuUser)
      .where(eq(sojuUser.username, username));
    if (!row) throw new SojuCommandFailed(`unknown username ${quoted(username)}`);
    return row;
  }

  /** Deletes the bouncer's pods so soju restarts and loads the DB (the operator re-creates them). */
  private async restart(bouncer: string): Promise<void> {
    const { core, namespace, podSelector } = this.options;
    let pods: V1Pod[];
    try {
      pods = await findBouncerPods(core, namespace, podSelector, bouncer);
    } catch (error) {
      throw new SojuUnavailable(
        `the change is stored but soju was not restarted: could not list its pods: ${describeKubeError(error)}`,
      );
    }
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.name);
    if (live.length === 0) {
      this.log.info(
        { bouncer },
        "no running soju pod to restart; the change applies when soju next starts",
      );
      return;
    }
    for (const pod of live) {
      const name = pod.metadata?.name ?? "";
      try {
        await core.deleteNamespacedPod({ name, namespace });
        this.log.info(
          { bouncer, pod: name },
          "deleted soju pod so that soju restarts and loads the change",
        );
      } catch (error) {
        if (isNotFound(error)) continue;
        throw new SojuUnavailable(
          `the change is stored but soju was not restarted: could not delete pod ${name}: ${describeKubeError(error)}`,
        );
      }
    }
  }

  userRun(): Promise<string[]> {
    return Promise.reject(
      new SojuUnsupported(
        "userRun needs BouncerServ; SOJU_ADMIN=sql-restart can only create users, networks and SASL credentials",
      ),
    );
  }

  async createUser(
    bouncer: string,
    user: { username: string; password?: string; disablePassword?: boolean },
  ): Promise<"created" | "exists"> {
    const password =
      user.password === undefined || user.disablePassword ? undefined : user.password;
    const words = [
      "user",
      "create",
      "-username",
      user.username,
      ...(password === undefined ? ["-disable-password"] : ["-password", password]),
    ];
    const created = await this.guarded(bouncer, words, "create user", async (db) => {
      if (user.username === "") throw new SojuCommandFailed("flag -username is required");
      const hash = password === undefined ? null : await hashPassword(password);
      const rows = await db
        .insert(sojuUser)
        .values({ username: user.username, password: hash })
        .onConflictDoNothing({ target: sojuUser.username })
        .returning({ id: sojuUser.id });
      return rows.length > 0;
    });
    if (!created) return "exists";
    await this.guarded(bouncer, words, "restart soju", () => this.restart(bouncer));
    return "created";
  }

  async createOrUpdateNetwork(
    bouncer: string,
    user: string,
    network: NetworkSpec,
  ): Promise<"created" | "updated"> {
    const words = ["user", "run", user, "network", "create", ...networkFlags(network)];
    const inserted = await this.guarded(bouncer, words, "create network", async (db) => {
      assertNetworkName(network.name);
      checkAddr(network.addr);
      const owner = await this.userId(db, user);
      const columns = {
        addr: network.addr,
        nick: nullIfEmpty(network.nick),
        username: nullIfEmpty(network.username),
        enabled: network.enabled,
        // Like `network update` without -realname: an absent realname leaves the stored one.
        ...(network.realname === undefined ? {} : { realname: nullIfEmpty(network.realname) }),
      };
      const [row] = await db
        .insert(sojuNetwork)
        .values({ user: owner.id, name: network.name, ...columns })
        .onConflictDoUpdate({ target: [sojuNetwork.user, sojuNetwork.name], set: columns })
        .returning({ inserted: sql<boolean>`(xmax = 0)` });
      return row?.inserted ?? false;
    });
    await this.guarded(bouncer, words, "restart soju", () => this.restart(bouncer));
    return inserted ? "created" : "updated";
  }

  async setSaslPlain(
    bouncer: string,
    user: string,
    network: string,
    username: string,
    password: string,
  ): Promise<void> {
    const words = [
      "user",
      "run",
      user,
      "sasl",
      "set-plain",
      "-network",
      network,
      "--",
      username,
      password,
    ];
    await this.guarded(bouncer, words, "save credentials", async (db) => {
      const owner = await this.userId(db, user);
      const rows = await db
        .update(sojuNetwork)
        .set({
          saslMechanism: "PLAIN",
          saslPlainUsername: nullIfEmpty(username),
          saslPlainPassword: nullIfEmpty(password),
          saslExternalCert: null,
          saslExternalKey: null,
        })
        .where(and(eq(sojuNetwork.user, owner.id), eq(sojuNetwork.name, network)))
        .returning({ id: sojuNetwork.id });
      if (rows.length === 0) throw new SojuCommandFailed(`unknown network ${quoted(network)}`);
    });
    await this.guarded(bouncer, words, "restart soju", () => this.restart(bouncer));
  }

  async enableNetwork(bouncer: string, user: string, network: string): Promise<void> {
    const words = ["user", "run", user, "network", "update", network, "-enabled", "true"];
    await this.guarded(bouncer, words, "update network", async (db) => {
      const owner = await this.userId(db, user);
      const rows = await db
        .update(sojuNetwork)
        .set({ enabled: true })
        .where(and(eq(sojuNetwork.user, owner.id), eq(sojuNetwork.name, network)))
        .returning({ id: sojuNetwork.id });
      if (rows.length === 0) throw new SojuCommandFailed(`unknown network ${quoted(network)}`);
    });
    await this.guarded(bouncer, words, "restart soju", () => this.restart(bouncer));
  }

  /**
   * `"User".enabled`, then a restart: soju loads users only at start-up, and a running soju
   * would write its in-memory record (enabled included) back on the next client connect. The
   * restart happens even when the row already held the value: a call whose restart failed is
   * retried with the row already written, and soju must still load it.
   */
  async setUserEnabled(bouncer: string, username: string, enabled: boolean): Promise<void> {
    const words = ["user", "update", username, "-enabled", enabled ? "true" : "false"];
    await this.guarded(bouncer, words, "update user", async (db) => {
      const user = await this.userId(db, username);
      await db.update(sojuUser).set({ enabled }).where(eq(sojuUser.id, user.id));
    });
    await this.guarded(bouncer, words, "restart soju", () => this.restart(bouncer));
  }

  /**
   * The three writes in order, stopping at the first failure (each restarts soju, as the
   * commands do one by one; there is no round trip to save here but the restarts).
   */
  async applyUpstreamNetwork(
    bouncer: string,
    user: string,
    network: Omit<NetworkSpec, "enabled">,
    sasl: { username: string; password: string },
    options: { enableAfter?: Promise<unknown> } = {},
  ): Promise<"created" | "updated"> {
    // Every value is checked before the first write, as the one-round-trip adapters do.
    assertNetworkName(network.name);
    assertSendable(networkFlags({ ...network, enabled: false }));
    assertSendable(["sasl", "set-plain", "--", sasl.username, sasl.password]);
    const named = async <T>(command: string, call: () => Promise<T>): Promise<T> => {
      try {
        return await call();
      } catch (error) {
        if (error instanceof SojuCommandFailed) throw new SojuCommandFailed(error.reply, command);
        if (error instanceof SojuUnavailable)
          throw new SojuUnavailable(`${command}: ${error.message}`);
        throw error;
      }
    };
    // No round trip to save here: with `enableAfter`, nothing is written before it resolves
    // (each write restarts soju; an existing network is never touched before ergo's proof).
    await options.enableAfter;
    const result = await named("network create", () =>
      this.createOrUpdateNetwork(bouncer, user, { ...network, enabled: false }),
    );
    await named("sasl set-plain", () =>
      this.setSaslPlain(bouncer, user, network.name, sasl.username, sasl.password),
    );
    await named("network update", () => this.enableNetwork(bouncer, user, network.name));
    return result;
  }

  /** From the DB: the PLAIN username, and `disconnected` for a disabled network, else `unknown`. */
  saslStatus(bouncer: string, user: string, network: string): Promise<SaslStatus> {
    return this.guarded(
      bouncer,
      ["user", "run", user, "sasl", "status", "-network", network],
      "read network",
      async (db) => {
        const owner = await this.userId(db, user);
        const [row] = await db
          .select({
            mechanism: sojuNetwork.saslMechanism,
            username: sojuNetwork.saslPlainUsername,
            enabled: sojuNetwork.enabled,
          })
          .from(sojuNetwork)
          .where(and(eq(sojuNetwork.user, owner.id), eq(sojuNetwork.name, network)));
        if (!row) throw new SojuCommandFailed(`unknown network ${quoted(network)}`);
        const plainUsername = row.mechanism === "PLAIN" ? (row.username ?? "") : null;
        if (!row.enabled || !owner.enabled)
          return { plainUsername, state: { kind: "disconnected" } };
        return {
          plainUsername,
          state: {
            kind: "unknown",
            detail:
              "SOJU_ADMIN=sql-restart reads soju's database, which does not record the live upstream connection",
          },
        };
      },
    );
  }

  /** From the DB: `disabled` for disabled networks (or user), else `unknown`; no channel counts. */
  networkStatus(bouncer: string, user: string): Promise<NetworkStatus[]> {
    return this.guarded(
      bouncer,
      ["user", "run", user, "network", "status"],
      "read networks",
      async (db) => {
        const owner = await this.userId(db, user);
        const rows = await db
          .select({ name: sojuNetwork.name, addr: sojuNetwork.addr, enabled: sojuNetwork.enabled })
          .from(sojuNetwork)
          .where(eq(sojuNetwork.user, owner.id))
          .orderBy(asc(sojuNetwork.id));
        return rows.map((r): NetworkStatus => ({
          name: r.name ?? r.addr,
          addr: r.addr,
          state: r.enabled && owner.enabled ? "unknown" : "disabled",
        }));
      },
    );
  }

  async release(): Promise<void> {
    // Nothing is kept per bouncer: tenant DB connections are opened per call.
  }

  async close(): Promise<void> {
    // Connections are opened per call and closed right after.
  }
}
