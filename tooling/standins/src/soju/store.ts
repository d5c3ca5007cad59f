import { generateKeyPairSync } from "node:crypto";
import pg from "pg";
import { pqMessage, upgradeSchema } from "./schema";

/** soju's database.User, held in memory (facts/soju.md §1, §3). Empty strings stand for NULL. */
export interface UserRecord {
  id: number;
  username: string;
  password: string;
  admin: boolean;
  nick: string;
  realname: string;
  enabled: boolean;
  downstreamInteractedAt: Date | null;
  maxNetworks: number;
}

export type SaslMechanism = "" | "PLAIN" | "EXTERNAL";

/** soju's database.Network. Empty strings stand for NULL. */
export interface NetworkRecord {
  id: number;
  name: string;
  addr: string;
  nick: string;
  username: string;
  realname: string;
  certfp: string;
  pass: string;
  connectCommands: string[];
  saslMechanism: SaslMechanism;
  saslPlainUsername: string;
  saslPlainPassword: string;
  saslExternalCert: Buffer | null;
  saslExternalKey: Buffer | null;
  autoAway: boolean;
  enabled: boolean;
}

/** soju's database.Channel (detachAfter in seconds, as stored). */
export interface ChannelRecord {
  id: number;
  name: string;
  key: string;
  detached: boolean;
  detachedInternalMsgid: string;
  relayDetached: number;
  reattachOn: number;
  detachAfter: number;
  detachOn: number;
}

export function newUserRecord(username: string): UserRecord {
  return {
    id: 0,
    username,
    password: "",
    admin: false,
    nick: "",
    realname: "",
    enabled: true,
    downstreamInteractedAt: null,
    maxNetworks: -1,
  };
}

export function newNetworkRecord(addr: string): NetworkRecord {
  return {
    id: 0,
    name: "",
    addr,
    nick: "",
    username: "",
    realname: "",
    certfp: "",
    pass: "",
    connectCommands: [],
    saslMechanism: "",
    saslPlainUsername: "",
    saslPlainPassword: "",
    saslExternalCert: null,
    saslExternalKey: null,
    autoAway: true,
    enabled: true,
  };
}

export function newChannelRecord(name: string): ChannelRecord {
  return {
    id: 0,
    name,
    key: "",
    detached: false,
    detachedInternalMsgid: "",
    relayDetached: 0,
    reattachOn: 0,
    detachAfter: 0,
    detachOn: 0,
  };
}

/** `network.GetName()`: the name, or the address when the name is empty. */
export function networkName(record: Pick<NetworkRecord, "name" | "addr">): string {
  return record.name || record.addr;
}

const nullIfEmpty = (value: string): string | null => (value === "" ? null : value);
const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** An error from the database, already in lib/pq's text form. */
export class DatabaseError extends Error {}

/**
 * soju's PostgreSQL access (database/postgres.go): whole-record writes from memory, NULL for
 * empty strings, schema created/migrated on open.
 */
export class SojuStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Opens the tenant DB and runs soju's schema upgrade; errors read `failed to open database: …`. */
  static async open(databaseUrl: string): Promise<SojuStore> {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    pool.on("error", () => undefined);
    try {
      const client = await pool.connect();
      try {
        await upgradeSchema(client);
      } finally {
        client.release();
      }
    } catch (error) {
      await pool.end().catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      const text = /^(failed to|soju \()/.test(message) ? message : pqMessage(error);
      throw new Error(`failed to open database: ${text}`);
    }
    const store = new SojuStore(pool);
    await store.ensureWebPushConfig();
    return store;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  private async query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (error) {
      throw new DatabaseError(pqMessage(error));
    }
  }

  /** soju generates a VAPID key pair on first start (facts §1 "WebPushConfig"). */
  private async ensureWebPushConfig(): Promise<void> {
    const existing = await this.query('SELECT id FROM "WebPushConfig" LIMIT 1');
    if (existing.rowCount) return;
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pub = publicKey.export({ format: "jwk" });
    const priv = privateKey.export({ format: "jwk" });
    const raw = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(pub.x ?? "", "base64url"),
      Buffer.from(pub.y ?? "", "base64url"),
    ]);
    await this.query(
      'INSERT INTO "WebPushConfig" (created_at, vapid_key_public, vapid_key_private) VALUES (now(), $1, $2)',
      [raw.toString("base64url"), priv.d ?? ""],
    );
  }

  async listUsers(): Promise<UserRecord[]> {
    const result = await this.query<Record<string, unknown>>(
      'SELECT id, username, password, admin, nick, realname, enabled, downstream_interacted_at, max_networks FROM "User" ORDER BY id',
    );
    return result.rows.map(rowToUser);
  }

  async getUser(username: string): Promise<UserRecord | undefined> {
    const result = await this.query<Record<string, unknown>>(
      'SELECT id, username, password, admin, nick, realname, enabled, downstream_interacted_at, max_networks FROM "User" WHERE username = $1',
      [username],
    );
    const row = result.rows[0];
    return row ? rowToUser(row) : undefined;
  }

  async storeUser(user: UserRecord): Promise<void> {
    const values = [
      nullIfEmpty(user.password),
      user.admin,
      nullIfEmpty(user.nick),
      nullIfEmpty(user.realname),
      user.enabled,
      user.downstreamInteractedAt,
      user.maxNetworks,
    ];
    if (user.id !== 0) {
      await this.query(
        `UPDATE "User" SET password = $1, admin = $2, nick = $3, realname = $4, enabled = $5,
          downstream_interacted_at = $6, max_networks = $7 WHERE id = $8`,
        [...values, user.id],
      );
      return;
    }
    const result = await this.query<{ id: number }>(
      `INSERT INTO "User" (username, password, admin, nick, realname, enabled, downstream_interacted_at, max_networks, created_at)
        VALUES ($8, $1, $2, $3, $4, $5, $6, $7, now()) RETURNING id`,
      [...values, user.username],
    );
    user.id = result.rows[0]?.id ?? 0;
  }

  async deleteUser(id: number): Promise<void> {
    await this.query('DELETE FROM "User" WHERE id = $1', [id]);
  }

  async listNetworks(userId: number): Promise<NetworkRecord[]> {
    const result = await this.query<Record<string, unknown>>(
      `SELECT id, name, addr, nick, username, realname, certfp, pass, connect_commands, sasl_mechanism,
        sasl_plain_username, sasl_plain_password, sasl_external_cert, sasl_external_key, auto_away, enabled
        FROM "Network" WHERE "user" = $1 ORDER BY id`,
      [userId],
    );
    return result.rows.map(rowToNetwork);
  }

  async countNetworks(userId: number): Promise<number> {
    const result = await this.query<{ n: string }>(
      'SELECT count(*) AS n FROM "Network" WHERE "user" = $1',
      [userId],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async storeNetwork(userId: number, network: NetworkRecord): Promise<void> {
    const external = network.saslMechanism === "EXTERNAL";
    const plain = network.saslMechanism === "PLAIN";
    const values = [
      nullIfEmpty(network.name),
      network.addr,
      nullIfEmpty(network.nick),
      nullIfEmpty(network.username),
      nullIfEmpty(network.realname),
      nullIfEmpty(network.certfp),
      nullIfEmpty(network.pass),
      nullIfEmpty(network.connectCommands.join("\r\n")),
      nullIfEmpty(network.saslMechanism),
      plain ? nullIfEmpty(network.saslPlainUsername) : null,
      plain ? nullIfEmpty(network.saslPlainPassword) : null,
      external ? network.saslExternalCert : null,
      external ? network.saslExternalKey : null,
      network.autoAway,
      network.enabled,
    ];
    if (network.id !== 0) {
      await this.query(
        `UPDATE "Network" SET name = $1, addr = $2, nick = $3, username = $4, realname = $5, certfp = $6, pass = $7,
          connect_commands = $8, sasl_mechanism = $9, sasl_plain_username = $10, sasl_plain_password = $11,
          sasl_external_cert = $12, sasl_external_key = $13, auto_away = $14, enabled = $15
          WHERE id = $16`,
        [...values, network.id],
      );
      return;
    }
    const result = await this.query<{ id: number }>(
      `INSERT INTO "Network" ("user", name, addr, nick, username, realname, certfp, pass, connect_commands, sasl_mechanism,
          sasl_plain_username, sasl_plain_password, sasl_external_cert, sasl_external_key, auto_away, enabled)
        VALUES ($16, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
      [...values, userId],
    );
    network.id = result.rows[0]?.id ?? 0;
  }

  async deleteNetwork(id: number): Promise<void> {
    await this.query('DELETE FROM "Network" WHERE id = $1', [id]);
  }

  async listChannels(networkId: number): Promise<ChannelRecord[]> {
    const result = await this.query<Record<string, unknown>>(
      `SELECT id, name, key, detached, detached_internal_msgid, relay_detached, reattach_on, detach_after, detach_on
        FROM "Channel" WHERE network = $1 ORDER BY id`,
      [networkId],
    );
    return result.rows.map((row) => ({
      id: Number(row.id),
      name: str(row.name),
      key: str(row.key),
      detached: row.detached === true,
      detachedInternalMsgid: str(row.detached_internal_msgid),
      relayDetached: Number(row.relay_detached),
      reattachOn: Number(row.reattach_on),
      detachAfter: Number(row.detach_after),
      detachOn: Number(row.detach_on),
    }));
  }

  async storeChannel(networkId: number, channel: ChannelRecord): Promise<void> {
    const values = [
      channel.name,
      nullIfEmpty(channel.key),
      channel.detached,
      nullIfEmpty(channel.detachedInternalMsgid),
      channel.relayDetached,
      channel.reattachOn,
      channel.detachAfter,
      channel.detachOn,
    ];
    if (channel.id !== 0) {
      await this.query(
        `UPDATE "Channel" SET name = $1, key = $2, detached = $3, detached_internal_msgid = $4, relay_detached = $5,
          reattach_on = $6, detach_after = $7, detach_on = $8 WHERE id = $9`,
        [...values, channel.id],
      );
      return;
    }
    const result = await this.query<{ id: number }>(
      `INSERT INTO "Channel" (network, name, key, detached, detached_internal_msgid, relay_detached, reattach_on, detach_after, detach_on)
        VALUES ($9, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [...values, networkId],
    );
    channel.id = result.rows[0]?.id ?? 0;
  }

  async deleteChannel(id: number): Promise<void> {
    await this.query('DELETE FROM "Channel" WHERE id = $1', [id]);
  }

  /** database.Stats: row counts. */
  async stats(): Promise<{ users: number; networks: number; channels: number }> {
    const result = await this.query<{ users: string; networks: string; channels: string }>(
      `SELECT (SELECT count(*) FROM "User") AS users, (SELECT count(*) FROM "Network") AS networks,
        (SELECT count(*) FROM "Channel") AS channels`,
    );
    const row = result.rows[0];
    return {
      users: Number(row?.users ?? 0),
      networks: Number(row?.networks ?? 0),
      channels: Number(row?.channels ?? 0),
    };
  }
}

function rowToUser(row: Record<string, unknown>): UserRecord {
  return {
    id: Number(row.id),
    username: str(row.username),
    password: str(row.password),
    admin: row.admin === true,
    nick: str(row.nick),
    realname: str(row.realname),
    enabled: row.enabled === true,
    downstreamInteractedAt:
      row.downstream_interacted_at instanceof Date ? row.downstream_interacted_at : null,
    maxNetworks: Number(row.max_networks),
  };
}

function rowToNetwork(row: Record<string, unknown>): NetworkRecord {
  const mechanism = str(row.sasl_mechanism);
  return {
    id: Number(row.id),
    name: str(row.name),
    addr: str(row.addr),
    nick: str(row.nick),
    username: str(row.username),
    realname: str(row.realname),
    certfp: str(row.certfp),
    pass: str(row.pass),
    connectCommands:
      str(row.connect_commands) === "" ? [] : str(row.connect_commands).split("\r\n"),
    saslMechanism: mechanism === "PLAIN" || mechanism === "EXTERNAL" ? mechanism : "",
    saslPlainUsername: str(row.sasl_plain_username),
    saslPlainPassword: str(row.sasl_plain_password),
    saslExternalCert: Buffer.isBuffer(row.sasl_external_cert) ? row.sasl_external_cert : null,
    saslExternalKey: Buffer.isBuffer(row.sasl_external_key) ? row.sasl_external_key : null,
    autoAway: row.auto_away === true,
    enabled: row.enabled === true,
  };
}
