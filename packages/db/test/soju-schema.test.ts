import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closeSojuDb, createSojuDb, soju, type SojuDb } from "../src/index";
import { createSojuSchemaForTests, createTestDatabase } from "../src/testing/index";

const tables: PgTable[] = [
  soju.sojuConfig,
  soju.sojuUser,
  soju.sojuNetwork,
  soju.sojuChannel,
  soju.sojuDeliveryReceipt,
  soju.sojuReadReceipt,
  soju.sojuWebPushConfig,
  soju.sojuWebPushSubscription,
  soju.sojuMessageTarget,
  soju.sojuMessage,
];

describe("soju tenant schema (v18) in Drizzle", () => {
  let url: string;
  let db: SojuDb;
  beforeAll(async () => {
    url = await createTestDatabase(inject("postgresUrl"), "soju");
    await createSojuSchemaForTests(url);
    db = createSojuDb(url);
  });
  afterAll(async () => {
    await closeSojuDb(db);
  });

  it("declares exactly the columns, types and nullability soju's database has", async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{
      table_name: string;
      column_name: string;
      udt_name: string;
      is_nullable: string;
    }>(
      `SELECT table_name, column_name, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' ORDER BY table_name, column_name`,
    );
    await client.end();
    const udt: Record<string, string> = {
      serial: "int4",
      integer: "int4",
      smallint: "int2",
      varchar: "varchar",
      text: "text",
      boolean: "bool",
      "timestamp with time zone": "timestamptz",
      bytea: "bytea",
      tsvector: "tsvector",
      sasl_mechanism: "sasl_mechanism",
    };
    const declared = tables
      .flatMap((table) => {
        const config = getTableConfig(table);
        return config.columns.map((c) => ({
          table_name: config.name,
          column_name: c.name,
          udt_name: udt[c.getSQLType().replace(/\(\d+\)$/, "")] ?? c.getSQLType(),
          is_nullable: c.notNull ? "NO" : "YES",
        }));
      })
      .sort((a, b) =>
        (a.table_name + "." + a.column_name).localeCompare(
          b.table_name + "." + b.column_name,
          "en",
        ),
      );
    const actual = [...rows].sort((a, b) =>
      (a.table_name + "." + a.column_name).localeCompare(b.table_name + "." + b.column_name, "en"),
    );
    expect(declared).toEqual(actual);
  });

  it("declares soju's unique constraints by name", async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ conname: string }>(
      `SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE contype = 'u' AND n.nspname = 'public' ORDER BY conname`,
    );
    await client.end();
    const declared = tables
      .flatMap((t) => {
        const c = getTableConfig(t);
        return [
          ...c.uniqueConstraints.map((u) => u.getName()),
          ...c.columns.filter((col) => col.isUnique).map((col) => col.uniqueName ?? ""),
        ];
      })
      .sort();
    expect(declared).toEqual(rows.map((r) => r.conname).sort());
  });

  it("selects every column of every table through typed queries", async () => {
    const [user] = await db
      .insert(soju.sojuUser)
      .values({ username: "alice", password: "$2a$10$" + "x".repeat(53) })
      .returning();
    const [network] = await db
      .insert(soju.sojuNetwork)
      .values({
        user: user!.id,
        name: "irc.now",
        addr: "irc+insecure://irc-now-net:6667",
        nick: "alice",
        saslMechanism: "PLAIN",
        saslPlainUsername: "alice",
        saslPlainPassword: "pw",
      })
      .returning();
    await db.insert(soju.sojuChannel).values({ network: network!.id, name: "#irc-now", key: "k" });
    await db
      .insert(soju.sojuDeliveryReceipt)
      .values({ network: network!.id, target: "#irc-now", internalMsgid: "1" });
    await db
      .insert(soju.sojuReadReceipt)
      .values({ network: network!.id, target: "#irc-now", timestamp: new Date() });
    await db
      .insert(soju.sojuWebPushConfig)
      .values({ createdAt: new Date(), vapidKeyPublic: "pub", vapidKeyPrivate: "priv" });
    await db.insert(soju.sojuWebPushSubscription).values({
      createdAt: new Date(),
      updatedAt: new Date(),
      user: user!.id,
      network: network!.id,
      endpoint: "https://push.example/1",
    });
    const [target] = await db
      .insert(soju.sojuMessageTarget)
      .values({ network: network!.id, target: "#irc-now" })
      .returning();
    await db.insert(soju.sojuMessage).values({
      target: target!.id,
      raw: ":a PRIVMSG #irc-now :hello world",
      time: new Date(),
      sender: "a",
      text: "hello world",
    });

    const counts = await Promise.all(tables.map(async (t) => (await db.select().from(t)).length));
    expect(counts).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);

    const [config] = await db.select().from(soju.sojuConfig);
    expect(config).toEqual({ id: 1, version: soju.SOJU_SCHEMA_VERSION });
    const [n] = await db.select().from(soju.sojuNetwork).where(eq(soju.sojuNetwork.user, user!.id));
    expect(n).toMatchObject({
      autoAway: true,
      enabled: true,
      saslMechanism: "PLAIN",
      saslExternalCert: null,
      connectCommands: null,
    });
    const [u] = await db.select().from(soju.sojuUser);
    expect(u).toMatchObject({
      admin: false,
      enabled: true,
      maxNetworks: -1,
      downstreamInteractedAt: null,
    });
    expect(u!.createdAt).toBeInstanceOf(Date);
    const [m] = await db.select().from(soju.sojuMessage);
    expect(m!.textSearch).toContain("hello");
  });

  it("behaves like soju's database: upper-case enum, upsert on (user, name), NULL names never conflict, cascades", async () => {
    const [bob] = await db.insert(soju.sojuUser).values({ username: "bob" }).returning();
    await expect(
      db.execute(
        sql`INSERT INTO "Network" ("user", addr, sasl_mechanism) VALUES (${bob!.id}, 'x', 'plain')`,
      ),
    ).rejects.toThrow();

    const upsert = (addr: string) =>
      db
        .insert(soju.sojuNetwork)
        .values({ user: bob!.id, name: "irc.now", addr })
        .onConflictDoUpdate({
          target: [soju.sojuNetwork.user, soju.sojuNetwork.name],
          set: { addr },
        })
        .returning();
    const [first] = await upsert("irc+insecure://a:6667");
    const [second] = await upsert("irc+insecure://b:6667");
    expect(second!.id).toBe(first!.id);
    expect(second!.addr).toBe("irc+insecure://b:6667");

    await db.insert(soju.sojuNetwork).values({ user: bob!.id, addr: "ircs://same" });
    await db.insert(soju.sojuNetwork).values({ user: bob!.id, addr: "ircs://same" });
    expect(
      (await db.select().from(soju.sojuNetwork).where(eq(soju.sojuNetwork.user, bob!.id))).length,
    ).toBe(3);

    await db.delete(soju.sojuUser).where(eq(soju.sojuUser.id, bob!.id));
    expect(
      (await db.select().from(soju.sojuNetwork).where(eq(soju.sojuNetwork.user, bob!.id))).length,
    ).toBe(0);
  });
});
