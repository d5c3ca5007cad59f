import { and, eq } from "drizzle-orm";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  BOUNCER_CHANGES_CHANNEL,
  bouncerChangeFeed,
  type BouncerChange,
  type BouncerChangeFeed,
} from "~/server/live/bouncer-changes";
import { bouncerEventStream } from "~/server/live/event-stream";

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("live status feed (LISTEN irc_now_bouncer_changes)", () => {
  let db: AccountsDb;
  let feed: BouncerChangeFeed;
  let alice: string;
  let bob: string;
  const quiet: string[] = [];

  beforeAll(async () => {
    const url = await createTestDatabase(inject("postgresUrl"), "web");
    await migrateAccounts(url);
    db = createAccountsDb(url);
    const users = await db
      .insert(accounts.users)
      .values([
        { keycloakSubject: "kc-live-alice", username: "alice" },
        { keycloakSubject: "kc-live-bob", username: "bob" },
      ])
      .returning();
    alice = users[0]!.id;
    bob = users[1]!.id;
    feed = bouncerChangeFeed(url, { probeIntervalMs: 200, log: (m) => quiet.push(m) });
  });

  afterAll(async () => {
    await feed?.close();
    await db?.$client.end();
  });

  const touch = (name: string) =>
    db
      .update(accounts.bouncers)
      .set({ observedAt: new Date() })
      .where(and(eq(accounts.bouncers.namespace, "irc-now"), eq(accounts.bouncers.name, name)));

  it("delivers a change only to the owner's subscribers", async () => {
    const aliceSees: BouncerChange[] = [];
    const bobSees: BouncerChange[] = [];
    let resyncs = 0;
    const offAlice = feed.subscribe(alice, {
      onChange: (c) => aliceSees.push(c),
      onResync: () => resyncs++,
    });
    const offBob = feed.subscribe(bob, { onChange: (c) => bobSees.push(c), onResync: () => 0 });
    await until(() => feed.live, "the feed to connect");
    expect(resyncs).toBeGreaterThanOrEqual(1);

    await db.insert(accounts.bouncers).values([
      { namespace: "irc-now", name: "alice", uid: "ua", ownerId: alice, sojuUsername: "alice" },
      { namespace: "irc-now", name: "bob", uid: "ub", ownerId: bob, sojuUsername: "bob" },
    ]);
    await until(() => aliceSees.length === 1 && bobSees.length === 1, "both notifications");
    expect(aliceSees).toEqual([{ owner: alice, namespace: "irc-now", name: "alice" }]);
    expect(bobSees).toEqual([{ owner: bob, namespace: "irc-now", name: "bob" }]);

    // A payload that is not ours (or malformed) is ignored, not thrown.
    await db.$client.query(`SELECT pg_notify($1, 'not json')`, [BOUNCER_CHANGES_CHANNEL]);
    await db.$client.query(`SELECT pg_notify($1, '{"owner":"nobody"}')`, [BOUNCER_CHANGES_CHANNEL]);
    await touch("alice");
    await until(() => aliceSees.length === 2, "the next change after junk payloads");
    offAlice();
    offBob();
    expect(feed.subscribers).toBe(0);
  });

  it("tells subscribers to resync after its connection was killed, and keeps delivering", async () => {
    const seen: BouncerChange[] = [];
    let resyncs = 0;
    const off = feed.subscribe(alice, { onChange: (c) => seen.push(c), onResync: () => resyncs++ });
    await until(() => feed.live, "the feed to be live");
    const before = resyncs;
    // What an idle-connection reaper, a failover or a restart does to the LISTEN session.
    await db.$client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND datname = current_database()
         AND (query ILIKE 'LISTEN%' OR query = 'SELECT pg_backend_pid()')`,
    );
    await until(() => resyncs > before, "a resync after the reconnection");
    await until(() => feed.live, "the feed to be live again");
    await touch("alice");
    await until(() => seen.length >= 1, "a change after the reconnection");
    expect(seen.at(-1)).toEqual({ owner: alice, namespace: "irc-now", name: "alice" });
    off();
  });

  it("streams server-sent events to one dashboard and unsubscribes when it goes away", async () => {
    const abort = new AbortController();
    const stream = bouncerEventStream(feed, alice, abort.signal, { heartbeatMs: 50 });
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const read = async (until: (t: string) => boolean) => {
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
      return text;
    };
    await read((t) => t.includes("event: state"));
    expect(text).toContain("retry: 3000");
    expect(text).toContain('event: state\ndata: {"live":true}');
    expect(feed.subscribers).toBe(1);

    await touch("alice");
    await read((t) => t.includes("event: change"));
    expect(text).toContain('event: change\ndata: {"name":"alice"}');
    // A change of another owner's bouncer never reaches this stream.
    await touch("bob");
    await read((t) => t.includes(": keep-alive"));
    expect(text).not.toContain('"name":"bob"');

    abort.abort();
    expect(feed.subscribers).toBe(0);
    expect((await reader.read()).done).toBe(true);
  });

  it("ends the stream after its lifetime so the browser reconnects and signs in again", async () => {
    const stream = bouncerEventStream(feed, alice, new AbortController().signal, {
      maxLifetimeMs: 100,
    });
    const reader = stream.getReader();
    let done = false;
    const deadline = Date.now() + 5_000;
    while (!done && Date.now() < deadline) done = (await reader.read()).done;
    expect(done).toBe(true);
    expect(feed.subscribers).toBe(0);
  });
});
