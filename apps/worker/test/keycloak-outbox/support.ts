import { Writable } from "node:stream";
import { eq, sql } from "drizzle-orm";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { createKeycloakAdmin, type KeycloakAdmin } from "@irc-now/keycloak";
import { startKeycloakStandin, type KeycloakStandin } from "@irc-now/standins/keycloak";
import { createLogger } from "../../src/logger";
import type { OutboxMetrics, OutboxStats, PushResult } from "../../src/keycloak-outbox/ports";
import { dbOutboxStore } from "../../src/keycloak-outbox/store";

/** A profile save as the web makes it: the user's row and the outbox row in one transaction. */
export interface Save {
  displayName?: string;
  plan?: "free" | "pro";
  contentAutoExpire?: boolean;
}

/** A migrated accounts DB, the Keycloak stand-in and the real admin client on its service account. */
export interface OutboxWorld {
  databaseUrl: string;
  db: AccountsDb;
  kc: KeycloakStandin;
  keycloak: KeycloakAdmin;
  store: ReturnType<typeof dbOutboxStore>;
  logs: string[];
  log: ReturnType<typeof createLogger>;
  /** A Keycloak user (with an unrelated attribute) and its portal row; returns the portal id. */
  addUser(username: string): Promise<{ userId: string; kcId: string }>;
  save(userId: string, change: Save, reason?: "login" | "profile" | "plan"): Promise<void>;
  rows(userId?: string): Promise<(typeof accounts.keycloakOutbox.$inferSelect)[]>;
  stop(): Promise<void>;
}

export async function startOutboxWorld(postgresUrl: string, name: string): Promise<OutboxWorld> {
  const databaseUrl = await createTestDatabase(postgresUrl, name);
  await migrateAccounts(databaseUrl);
  const db = createAccountsDb(databaseUrl, { max: 5 });
  const kc = await startKeycloakStandin({ users: [], log: () => undefined });
  const account = kc.serviceAccounts[0]!;
  const keycloak = createKeycloakAdmin({
    issuer: kc.issuer,
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    timeoutMs: 2_000,
  });
  const logs: string[] = [];
  const log = createLogger(
    "debug",
    "outbox-test",
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(chunk.toString());
        cb();
      },
    }),
  );
  return {
    databaseUrl,
    db,
    kc,
    keycloak,
    store: dbOutboxStore(db),
    logs,
    log,
    async addUser(username) {
      const kcUser = kc.addUser({
        username,
        email: `${username}@example.test`,
        attributes: { locale: ["de"] },
      });
      const [row] = await db
        .insert(accounts.users)
        .values({ keycloakSubject: kcUser.id, username })
        .returning({ id: accounts.users.id });
      return { userId: row!.id, kcId: kcUser.id };
    },
    async save(userId, change, reason = "profile") {
      await db.transaction(async (tx) => {
        await tx
          .update(accounts.users)
          .set({ ...change, updatedAt: sql`now()` })
          .where(eq(accounts.users.id, userId));
        await accounts.enqueueKeycloakSync(tx, userId, reason);
      });
    },
    rows: (userId) =>
      db
        .select()
        .from(accounts.keycloakOutbox)
        .where(userId ? eq(accounts.keycloakOutbox.userId, userId) : sql`true`)
        .orderBy(accounts.keycloakOutbox.id),
    async stop() {
      await db.$client.end();
      await kc.stop();
    },
  };
}

/** Records what the drain reports (the Prometheus side is tested with the real registry). */
export function recordingMetrics(): OutboxMetrics & {
  results: PushResult[];
  last?: OutboxStats;
} {
  const out: OutboxMetrics & { results: PushResult[]; last?: OutboxStats } = {
    results: [],
    pushed(result) {
      out.results.push(result);
    },
    pass(_ms, stats) {
      out.last = stats;
    },
  };
  return out;
}
