import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase, startTcpProxy } from "@irc-now/db/testing";
import { BouncerApi, createKubeClients, LABEL_OWNER, type SojuBouncer } from "@irc-now/k8s";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import {
  projectDelete,
  projectList,
  projectUpsert,
  startBouncerProjection,
} from "../src/bouncers/projection";
import { createLogger } from "../src/logger";
import { dbBouncerProjection } from "../src/ports/bouncer-projection";
import { CR, NS, until } from "./support/harness";

/**
 * The accounts DB's `bouncers` projection (issue 12): the worker keeps it from its own watch of
 * the SojuBouncers, against the Kubernetes stand-in and a real PostgreSQL.
 */
let kube: KubeStandin;
let kubeConfig: KubeConfig;
let api: BouncerApi;
let databaseUrl: string;
let db: AccountsDb;
const logs: string[] = [];
const log = createLogger(
  "debug",
  "projection-test",
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  }),
);
/** Stopped after each test, so that no projection of an earlier test writes into a later one. */
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

beforeAll(async () => {
  databaseUrl = await createTestDatabase(inject("postgresUrl"), "projection");
  await migrateAccounts(databaseUrl);
  db = createAccountsDb(databaseUrl);
  kube = await startKubeStandin({ namespaces: [NS, "elsewhere"] });
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kube.kubeConfigYaml());
  api = new BouncerApi(createKubeClients({ kubeConfig }).objects, NS);
});
afterAll(async () => {
  await db?.$client.end();
  await kube?.stop();
});

async function userId(username: string): Promise<string> {
  const [row] = await db
    .insert(accounts.users)
    .values({ keycloakSubject: `kc-${username}`, username })
    .onConflictDoUpdate({ target: accounts.users.username, set: { updatedAt: sql`now()` } })
    .returning({ id: accounts.users.id });
  return row!.id;
}

function createCr(name: string, owner: string, username: string): SojuBouncer {
  return kube.objects.create(CR, {
    apiVersion: "irc.now/v1alpha1",
    kind: "SojuBouncer",
    metadata: { name, namespace: NS, labels: { [LABEL_OWNER]: owner } },
    spec: { username, plan: "free" },
  }) as unknown as SojuBouncer;
}

const row = async (name: string, namespace = NS) =>
  (
    await db
      .select()
      .from(accounts.bouncers)
      .where(
        sql`${accounts.bouncers.namespace} = ${namespace} AND ${accounts.bouncers.name} = ${name}`,
      )
  )[0];
const names = async () =>
  (
    await db
      .select({ name: accounts.bouncers.name })
      .from(accounts.bouncers)
      .where(eq(accounts.bouncers.namespace, NS))
      .orderBy(asc(accounts.bouncers.name))
  ).map((r) => r.name);

function live(store = dbBouncerProjection(db)) {
  const p = startBouncerProjection({
    store,
    namespace: NS,
    list: () => api.list(),
    kubeConfig,
    log,
    replica: "test-replica",
    graceS: 0,
    retryBaseMs: 50,
    retryMaxMs: 400,
  });
  stops.push(() => p.stop());
  return p;
}

/** A CR as the watch delivers it, for the plain functions (uids and times of our choosing). */
const crOf = (name: string, uid: string, owner: string, username: string, created: string) =>
  ({
    apiVersion: "irc.now/v1alpha1",
    kind: "SojuBouncer",
    metadata: {
      name,
      namespace: NS,
      uid,
      creationTimestamp: created,
      labels: { [LABEL_OWNER]: owner },
    },
    spec: { username, plan: "free" },
  }) as SojuBouncer;

describe("bouncers projection", () => {
  it("follows a created, modified and deleted CR; a suspension survives modifications", async () => {
    const p = live();
    const alice = await userId("alice");
    const cr = createCr("proj-a", alice, "alice");
    const created = await until(() => row("proj-a"), "the row of proj-a");
    expect(created).toMatchObject({
      uid: cr.metadata.uid,
      ownerId: alice,
      sojuUsername: "alice",
      suspendedAt: null,
      createdAt: new Date(cr.metadata.creationTimestamp!),
    });

    await db
      .update(accounts.bouncers)
      .set({ suspendedAt: sql`now()`, suspendedReason: "over the free quota" })
      .where(eq(accounts.bouncers.name, "proj-a"));
    kube.objects.patch(CR, NS, "proj-a", {
      metadata: { annotations: { "irc.now/upstream-configured": "true" } },
    });
    const modified = await until(async () => {
      const r = await row("proj-a");
      return r && r.observedAt > created.observedAt ? r : undefined;
    }, "the MODIFIED event applied");
    expect(modified).toMatchObject({
      uid: cr.metadata.uid,
      suspendedReason: "over the free quota",
    });
    expect(modified.suspendedAt).not.toBeNull();
    // the CR as seen, for readers that must not ask Kubernetes
    const seen = kube.objects.get(CR, NS, "proj-a") as unknown as SojuBouncer;
    expect(modified.resourceVersion).toBe(seen.metadata.resourceVersion);
    expect(modified.resource).toMatchObject({
      metadata: {
        uid: cr.metadata.uid,
        annotations: { "irc.now/upstream-configured": "true" },
        labels: { [LABEL_OWNER]: alice },
      },
      spec: { username: "alice", plan: "free" },
    });
    expect(modified.resource).not.toHaveProperty("metadata.managedFields");
    // another replica's copy of the same event (same resourceVersion) rewrites nothing, so
    // the change is announced once
    await projectUpsert(dbBouncerProjection(db), NS, seen);
    expect((await row("proj-a"))!.observedAt).toEqual(modified.observedAt);
    const [beat] = await db
      .select()
      .from(accounts.projectionHeartbeats)
      .where(eq(accounts.projectionHeartbeats.replica, "test-replica"));
    expect(beat?.syncedAt).toBeInstanceOf(Date);

    kube.objects.delete(CR, NS, "proj-a");
    await until(async () => (await row("proj-a")) === undefined, "the row of proj-a deleted");
    await p.projection.idle();
    expect(p.projection.stale).toBe(false);
  });

  it("a recreated bouncer (new uid) replaces the row and drops the old suspension; late events of the old uid change nothing", async () => {
    const store = dbBouncerProjection(db);
    const [alice, bob] = [await userId("alice"), await userId("bob")];
    const old = crOf("proj-r", "uid-old", alice, "alice", "2026-11-30T10:00:00Z");
    const recreated = crOf("proj-r", "uid-new", bob, "bob", "2026-11-30T10:05:00Z");
    await projectUpsert(store, NS, old);
    await db
      .update(accounts.bouncers)
      .set({
        suspendedAt: sql`now()`,
        suspendedReason: "over the free quota",
        sojuDisabled: true,
      })
      .where(eq(accounts.bouncers.name, "proj-r"));
    // a modification of the same CR keeps what the worker applied to its soju
    await projectUpsert(store, NS, { ...old, metadata: { ...old.metadata, resourceVersion: "2" } });
    expect(await row("proj-r")).toMatchObject({ uid: "uid-old", sojuDisabled: true });

    await projectUpsert(store, NS, recreated);
    const expected = {
      uid: "uid-new",
      ownerId: bob,
      sojuUsername: "bob",
      suspendedAt: null,
      suspendedReason: null,
      // a new soju (new CR): nothing applied to it yet
      sojuDisabled: null,
      createdAt: new Date("2026-11-30T10:05:00Z"),
    };
    expect(await row("proj-r")).toMatchObject(expected);
    // another replica's late MODIFIED and DELETED of the old CR
    await projectUpsert(store, NS, old);
    await projectDelete(store, NS, old);
    expect(await row("proj-r")).toMatchObject(expected);
    await projectDelete(store, NS, recreated);
    expect(await row("proj-r")).toBeUndefined();

    // the same through the watch: delete and create again under another owner
    live();
    const first = createCr("proj-r2", alice, "alice");
    await until(() => row("proj-r2"), "the row of proj-r2");
    kube.objects.delete(CR, NS, "proj-r2");
    const second = createCr("proj-r2", bob, "bob");
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    const now = await until(async () => {
      const r = await row("proj-r2");
      return r?.uid === second.metadata.uid ? r : undefined;
    }, "the row of the recreated proj-r2");
    expect(now).toMatchObject({ ownerId: bob, sojuUsername: "bob" });
    kube.objects.delete(CR, NS, "proj-r2");
    await until(async () => (await row("proj-r2")) === undefined, "the row of proj-r2 deleted");
  });

  it("a (re)list removes the rows of CRs that are gone, only in its namespace and past the grace", async () => {
    const alice = await userId("alice");
    const kept = createCr("proj-l", alice, "alice");
    const ghost = (name: string, namespace = NS) =>
      db.insert(accounts.bouncers).values({
        namespace,
        name,
        uid: randomUUID(),
        ownerId: alice,
        sojuUsername: "alice",
        observedAt: new Date(Date.now() - 3_600_000),
      });
    await ghost("proj-ghost");
    await ghost("proj-ghost", "elsewhere");
    live();
    await until(async () => (await row("proj-ghost")) === undefined, "the ghost row removed");
    expect(await row("proj-l")).toMatchObject({ uid: kept.metadata.uid });
    expect(await row("proj-ghost", "elsewhere")).toBeDefined();

    // a row another replica observed a moment ago survives a list that predates it
    const store = dbBouncerProjection(db);
    await projectUpsert(
      store,
      NS,
      crOf("proj-fresh", "uid-f", alice, "alice", "2026-11-30T11:00:00Z"),
    );
    const { items } = await api.list();
    expect(await projectList(store, NS, items, 60)).toEqual({ removed: 0 });
    expect(await row("proj-fresh")).toBeDefined();
    expect(await projectList(store, NS, items, 0)).toEqual({ removed: 1 });
    expect(await row("proj-fresh")).toBeUndefined();
    kube.objects.delete(CR, NS, "proj-l");
  });

  it("confirms a quiet projection while its watch is open, and stops confirming while the watch is down", async () => {
    const syncedAt = async () =>
      (
        await db
          .select({ at: accounts.projectionHeartbeats.syncedAt })
          .from(accounts.projectionHeartbeats)
          .where(eq(accounts.projectionHeartbeats.replica, "quiet-replica"))
      )[0]?.at.getTime() ?? 0;
    const p = startBouncerProjection({
      store: dbBouncerProjection(db),
      namespace: NS,
      list: () => api.list(),
      kubeConfig,
      log,
      replica: "quiet-replica",
      heartbeatMs: 50,
    });
    stops.push(() => p.stop());
    await until(async () => (await syncedAt()) > 0, "a first heartbeat");
    // No CR changes at all: the beat still moves on.
    const first = await syncedAt();
    await until(async () => (await syncedAt()) > first, "a heartbeat without any event");

    // The API server refuses everything: no open watch, so no confirmation (readers then fall
    // back to Kubernetes themselves, or see it is down).
    kube.faults.failNextRequests(100_000, { code: 503 });
    let whileDown: number;
    try {
      kube.faults.closeWatches();
      await until(() => !p.watcher.watching, "the watch to be down");
      await new Promise((r) => setTimeout(r, 200)); // a beat already queued may still land
      whileDown = await syncedAt();
      await new Promise((r) => setTimeout(r, 400));
      expect(await syncedAt()).toBe(whileDown);
    } finally {
      kube.faults.reset();
    }
    await until(async () => (await syncedAt()) > whileDown, "heartbeats after the API is back");
  });

  it("an owner label that is not a portal user id gives owner_id null (and the row is written)", async () => {
    const store = dbBouncerProjection(db);
    const alice = await userId("alice");
    const cases = [
      ["proj-o1", "not-a-uuid", null],
      ["proj-o2", randomUUID(), null],
      ["proj-o3", alice.toUpperCase(), alice],
    ] as const;
    for (const [name, owner, expected] of cases) {
      await projectUpsert(
        store,
        NS,
        crOf(name, `uid-${name}`, owner, "carol", "2026-11-30T12:00:00Z"),
      );
      expect(await row(name), owner).toMatchObject({
        ownerId: expected,
        sojuUsername: "carol",
        uid: `uid-${name}`,
      });
      await projectDelete(
        store,
        NS,
        crOf(name, `uid-${name}`, owner, "carol", "2026-11-30T12:00:00Z"),
      );
    }
  });

  it("an accounts DB outage does not stop the watch, and the projection catches up when the DB is back", async () => {
    const target = new URL(databaseUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const proxied = createAccountsDb(proxy.via(databaseUrl), {
      max: 2,
      connectionTimeoutMillis: 500,
      statementTimeoutMs: 1_000,
    });
    stops.push(async () => {
      await proxied.$client.end().catch(() => undefined);
      await proxy.close();
    });
    const alice = await userId("alice");
    const p = live(dbBouncerProjection(proxied));
    createCr("out-a", alice, "alice");
    await until(() => row("out-a"), "the row of out-a");

    proxy.down();
    createCr("out-b", alice, "alice");
    kube.objects.delete(CR, NS, "out-a");
    await until(() => p.projection.stale, "a failed projection write");
    expect(logs.join("")).toContain("bouncers projection write failed; will catch up");
    expect(await row("out-a")).toBeDefined();
    expect(await row("out-b")).toBeUndefined();

    proxy.up();
    await until(async () => !p.projection.stale && (await row("out-b")) !== undefined, "catch-up");
    expect(await row("out-a")).toBeUndefined();
    // the watch kept running: a new CR arrives by its event, without another list
    createCr("out-c", alice, "alice");
    await until(() => row("out-c"), "the row of out-c");
    expect((await names()).filter((n) => n.startsWith("out-"))).toEqual(["out-b", "out-c"]);
    for (const n of ["out-b", "out-c"]) kube.objects.delete(CR, NS, n);
  });
});
