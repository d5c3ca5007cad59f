import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  customType,
  index,
  integer,
  pgEnum,
  pgTable,
  serial,
  smallint,
  text,
  timestamp,
  unique,
  varchar,
} from "drizzle-orm/pg-core";

/**
 * soju's tenant database, schema version 18 (soju v0.10.0/v0.10.1), as recorded in
 * facts/soju.md §1. For typed reads and for the `sql-restart` adapter's upserts only:
 * soju creates and migrates these tables itself, and the portal must never do it
 * (a portal-created schema without soju's "Config" row breaks soju's startup).
 * Table names are soju's quoted PascalCase; column names are given explicitly.
 */
export const SOJU_SCHEMA_VERSION = 18;

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => "bytea" });
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** Upper-case only: soju's enum rejects 'plain'. */
export const saslMechanism = pgEnum("sasl_mechanism", ["PLAIN", "EXTERNAL"]);

export const sojuConfig = pgTable(
  "Config",
  {
    id: smallint("id").primaryKey(),
    version: integer("version").notNull(),
  },
  (t) => [check("Config_id_check", sql`${t.id} = 1`)],
);

export const sojuUser = pgTable("User", {
  id: serial("id").primaryKey(),
  username: varchar("username", { length: 255 }).notNull().unique("User_username_key"),
  /** bcrypt hash (`$2a$10$…`); NULL = password login disabled. Never write it directly (facts §3). */
  password: varchar("password", { length: 255 }),
  admin: boolean("admin").notNull().default(false),
  nick: varchar("nick", { length: 255 }),
  realname: varchar("realname", { length: 255 }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  enabled: boolean("enabled").notNull().default(true),
  downstreamInteractedAt: timestamp("downstream_interacted_at", { withTimezone: true }),
  maxNetworks: integer("max_networks").notNull().default(-1),
});

export const sojuNetwork = pgTable(
  "Network",
  {
    id: serial("id").primaryKey(),
    /** NULL when empty; soju then falls back to `addr` as the display name. */
    name: varchar("name", { length: 255 }),
    user: integer("user")
      .notNull()
      .references(() => sojuUser.id, { onDelete: "cascade" }),
    addr: varchar("addr", { length: 255 }).notNull(),
    nick: varchar("nick", { length: 255 }),
    username: varchar("username", { length: 255 }),
    realname: varchar("realname", { length: 255 }),
    certfp: text("certfp"),
    pass: varchar("pass", { length: 255 }),
    /** Every command joined with CRLF. */
    connectCommands: varchar("connect_commands", { length: 1023 }),
    saslMechanism: saslMechanism("sasl_mechanism"),
    saslPlainUsername: varchar("sasl_plain_username", { length: 255 }),
    /** Clear text: soju replays it upstream. */
    saslPlainPassword: varchar("sasl_plain_password", { length: 255 }),
    saslExternalCert: bytea("sasl_external_cert"),
    saslExternalKey: bytea("sasl_external_key"),
    autoAway: boolean("auto_away").notNull().default(true),
    enabled: boolean("enabled").notNull().default(true),
  },
  (t) => [
    unique("Network_user_addr_nick_key").on(t.user, t.addr, t.nick),
    /** The upsert target of the sql-restart adapter; a NULL name never conflicts. */
    unique("Network_user_name_key").on(t.user, t.name),
    index("Network_user_index").on(t.user),
  ],
);

export const sojuChannel = pgTable(
  "Channel",
  {
    id: serial("id").primaryKey(),
    network: integer("network")
      .notNull()
      .references(() => sojuNetwork.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    key: varchar("key", { length: 255 }),
    detached: boolean("detached").notNull().default(false),
    detachedInternalMsgid: varchar("detached_internal_msgid", { length: 255 }),
    relayDetached: integer("relay_detached").notNull().default(0),
    reattachOn: integer("reattach_on").notNull().default(0),
    detachAfter: integer("detach_after").notNull().default(0),
    detachOn: integer("detach_on").notNull().default(0),
  },
  (t) => [
    unique("Channel_network_name_key").on(t.network, t.name),
    index("Channel_network_index").on(t.network),
  ],
);

export const sojuDeliveryReceipt = pgTable(
  "DeliveryReceipt",
  {
    id: serial("id").primaryKey(),
    network: integer("network")
      .notNull()
      .references(() => sojuNetwork.id, { onDelete: "cascade" }),
    target: varchar("target", { length: 255 }).notNull(),
    client: varchar("client", { length: 255 }).notNull().default(""),
    internalMsgid: varchar("internal_msgid", { length: 255 }).notNull(),
  },
  (t) => [unique("DeliveryReceipt_network_target_client_key").on(t.network, t.target, t.client)],
);

export const sojuReadReceipt = pgTable(
  "ReadReceipt",
  {
    id: serial("id").primaryKey(),
    network: integer("network")
      .notNull()
      .references(() => sojuNetwork.id, { onDelete: "cascade" }),
    target: varchar("target", { length: 255 }).notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true }).notNull(),
  },
  (t) => [unique("ReadReceipt_network_target_key").on(t.network, t.target)],
);

export const sojuWebPushConfig = pgTable("WebPushConfig", {
  id: serial("id").primaryKey(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  vapidKeyPublic: text("vapid_key_public").notNull().unique("WebPushConfig_vapid_key_public_key"),
  vapidKeyPrivate: text("vapid_key_private").notNull(),
});

export const sojuWebPushSubscription = pgTable(
  "WebPushSubscription",
  {
    id: serial("id").primaryKey(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
    user: integer("user")
      .notNull()
      .references(() => sojuUser.id, { onDelete: "cascade" }),
    network: integer("network").references(() => sojuNetwork.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull(),
    keyVapid: text("key_vapid"),
    keyAuth: text("key_auth"),
    keyP256dh: text("key_p256dh"),
  },
  (t) => [unique("WebPushSubscription_network_endpoint_key").on(t.network, t.endpoint)],
);

export const sojuMessageTarget = pgTable(
  "MessageTarget",
  {
    id: serial("id").primaryKey(),
    network: integer("network")
      .notNull()
      .references(() => sojuNetwork.id, { onDelete: "cascade" }),
    target: text("target").notNull(),
    pinned: boolean("pinned").notNull().default(false),
    muted: boolean("muted").notNull().default(false),
    blocked: boolean("blocked").notNull().default(false),
  },
  (t) => [
    unique("MessageTarget_network_target_key").on(t.network, t.target),
    index("Message_target_index").on(t.target),
  ],
);

export const sojuMessage = pgTable(
  "Message",
  {
    id: serial("id").primaryKey(),
    target: integer("target")
      .notNull()
      .references(() => sojuMessageTarget.id, { onDelete: "cascade" }),
    raw: text("raw").notNull(),
    time: timestamp("time", { withTimezone: true }).notNull(),
    sender: text("sender").notNull(),
    text: text("text"),
    textSearch: tsvector("text_search").generatedAlwaysAs(sql`to_tsvector('search_simple', text)`),
  },
  (t) => [index("Message_target_time_index").on(t.target, t.time)],
);

export type SojuUser = typeof sojuUser.$inferSelect;
export type SojuNetwork = typeof sojuNetwork.$inferSelect;
export type SojuChannel = typeof sojuChannel.$inferSelect;
