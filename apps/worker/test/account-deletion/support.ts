import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { and, eq, inArray, sql } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { ensureErgoCredential, ergoCredentialSecretName } from "@irc-now/k8s";
import { startErgoStandin, type ErgoStandin } from "@irc-now/standins/ergo";
import { startKeycloakStandin, type KeycloakStandin } from "@irc-now/standins/keycloak";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import type { DeletionDeps } from "../../src/account-deletion/ports";
import { loadWorkerConfig } from "../../src/env";
import { createLogger } from "../../src/logger";
import { wire, type Wiring } from "../../src/wiring";

export const NS = "irc-now";
const CR = "sojubouncers.irc.now";

/**
 * The worker's real wiring (wire()) against a real PostgreSQL and the Kubernetes, ergo and
 * Keycloak stand-ins: the deletion job runs the production adapters end to end.
 */
export interface DeletionWorld {
  w: Wiring;
  kube: KubeStandin;
  ergo: ErgoStandin;
  kc: KeycloakStandin;
  logs: string[];
  /** A portal user with everything the portal keeps of someone (see `seedUser`). */
  seedUser(username: string, bouncers: string[]): Promise<Seeded>;
  /** An account_deletions row as the web's account.requestDeletion writes it. */
  requestDeletion(user: Seeded): Promise<string>;
  job(id: string): Promise<accounts.AccountDeletion>;
  /** Makes a job due now (as time passing would). */
  due(id: string): Promise<void>;
  /** What is left of `user` anywhere; all false/0 once deleted. */
  traces(user: Seeded): Promise<Traces>;
  stop(): Promise<void>;
}

export interface Seeded {
  username: string;
  userId: string;
  kcId: string;
  bouncers: { name: string; uid: string }[];
}

export interface Traces {
  bouncerCrs: number;
  ergoAccount: boolean;
  secret: boolean;
  keycloakUser: boolean;
  userRow: boolean;
  appPasswords: number;
  ergoAccountRows: number;
  setupAttempts: number;
  upstreamStates: number;
  /** Audit rows that still name the user (username or id anywhere in them). */
  auditMentions: number;
}

export async function startDeletionWorld(
  postgresUrl: string,
  name: string,
  /** More worker settings (e.g. the Stripe key and URL of a stand-in). */
  env: Record<string, string> = {},
): Promise<DeletionWorld> {
  const databaseUrl = await createTestDatabase(postgresUrl, name);
  await migrateAccounts(databaseUrl);
  const kube = await startKubeStandin({ namespaces: [NS] });
  const dir = await mkdtemp(join(tmpdir(), "irc-now-deletion-test-"));
  const kubeconfig = join(dir, "kubeconfig");
  await kube.writeKubeConfig(kubeconfig);
  const ergo = await startErgoStandin();
  const kc = await startKeycloakStandin({ users: [], log: () => undefined });
  const account = kc.serviceAccounts[0]!;
  const config = loadWorkerConfig({
    DATABASE_URL: databaseUrl,
    KUBECONFIG: kubeconfig,
    K8S_NAMESPACE: NS,
    ERGO_IRC_URL: ergo.ircUrl,
    ERGO_OPER_NAME: ergo.oper.name,
    ERGO_OPER_PASSWORD: ergo.oper.password,
    KEYCLOAK_ISSUER: kc.issuer,
    KEYCLOAK_ADMIN_CLIENT_ID: account.clientId,
    KEYCLOAK_ADMIN_CLIENT_SECRET: account.clientSecret,
    LOG_LEVEL: "debug",
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const w = wire(config, createLogger("debug", "deletion-test", sink), { identity: "test" });
  const db = w.db;
  w.deletionDeps.settings = { retryBaseMs: 1_000, retryCapMs: 10_000, bouncersPollMs: 200 };

  return {
    w,
    kube,
    ergo,
    kc,
    logs,
    async seedUser(username, bouncerNames) {
      const kcUser = kc.addUser({ username, email: `${username}@example.test` });
      const [user] = await db
        .insert(accounts.users)
        .values({ keycloakSubject: kcUser.id, username, email: `${username}@example.test` })
        .returning({ id: accounts.users.id });
      const userId = user!.id;
      const bouncers: Seeded["bouncers"] = [];
      for (const bouncer of bouncerNames) {
        const cr = await w.bouncers.create({
          name: bouncer,
          username,
          plan: "pro",
          ownerId: userId,
        });
        bouncers.push({ name: bouncer, uid: cr.metadata.uid! });
        await db.insert(accounts.bouncerSetupAttempts).values({
          namespace: NS,
          bouncer,
          bouncerUid: cr.metadata.uid!,
          attemptNo: 1,
          stepReached: "done",
          outcome: "succeeded",
        });
        await db.insert(accounts.bouncerUpstreamStates).values({
          namespace: NS,
          bouncer,
          bouncerUid: cr.metadata.uid!,
          state: "authenticated",
          account: username,
        });
      }
      const password = `pw-${username}-0123456789`;
      await ergo.registerAccount(username, password);
      await db
        .insert(accounts.ergoAccounts)
        .values({ account: username, ownerUserId: userId, origin: "registered" });
      await ensureErgoCredential(w.kube.core, NS, username, async () => password);
      await db.insert(accounts.appPasswords).values({
        userId,
        label: `${username}'s laptop`,
        lookup: `lk${username}${Math.random().toString(36).slice(2, 10)}`,
        secretHash: "00",
      });
      // An admin (someone else) acted on one of the user's bouncers: the row must stay,
      // without naming the user.
      if (bouncers[0]) {
        await db.insert(accounts.adminAuditLog).values({
          actorUsername: "staff-admin",
          action: "ergo_account.adopt",
          target: `sojubouncer/${NS}/${bouncers[0].name}`,
          reason: "support ticket",
          details: { account: username, ownerUserId: userId, bouncerUid: bouncers[0].uid },
        });
      }
      return { username, userId, kcId: kcUser.id, bouncers };
    },

    async requestDeletion(user) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(accounts.accountDeletions)
          .values({ userId: user.userId, keycloakSubject: user.kcId, username: user.username })
          .returning({ id: accounts.accountDeletions.id });
        await tx.insert(accounts.adminAuditLog).values({
          actorUserId: user.userId,
          actorUsername: user.username,
          action: "account.delete-requested",
          target: `user/${user.userId}`,
          details: { userId: user.userId },
        });
        return row!.id;
      });
    },

    async job(id) {
      const [row] = await db
        .select()
        .from(accounts.accountDeletions)
        .where(eq(accounts.accountDeletions.id, id));
      if (!row) throw new Error(`no deletion ${id}`);
      return row;
    },

    async due(id) {
      await db
        .update(accounts.accountDeletions)
        .set({ nextAttemptAt: sql`now()` })
        .where(eq(accounts.accountDeletions.id, id));
    },

    async traces(user) {
      const uids = user.bouncers.map((b) => b.uid);
      const count = async (q: Promise<{ n: number }[]>) => (await q)[0]?.n ?? 0;
      const { rows: audit } = await db.execute<{ n: number }>(sql`
        SELECT count(*)::int AS n FROM admin_audit_log
         WHERE actor_username = ${user.username} OR target LIKE '%' || ${user.userId} || '%'
            OR details::text LIKE '%' || ${user.userId} || '%'
            OR details::text LIKE '%"' || ${user.username} || '"%'
            OR target LIKE '%/' || ${user.username}`);
      return {
        bouncerCrs: kube.objects
          .list(CR, NS)
          .items.filter((o) => o.metadata.labels?.["irc.now/owner"] === user.userId).length,
        ergoAccount: ergo.accountExists(user.username),
        secret:
          kube.objects.find("secrets", NS, ergoCredentialSecretName(user.username)) !== undefined,
        keycloakUser: kc.getUser(user.kcId) !== undefined,
        userRow:
          (await count(
            db
              .select({ n: sql<number>`count(*)::int` })
              .from(accounts.users)
              .where(eq(accounts.users.id, user.userId)),
          )) > 0,
        appPasswords: await count(
          db
            .select({ n: sql<number>`count(*)::int` })
            .from(accounts.appPasswords)
            .where(eq(accounts.appPasswords.userId, user.userId)),
        ),
        ergoAccountRows: await count(
          db
            .select({ n: sql<number>`count(*)::int` })
            .from(accounts.ergoAccounts)
            .where(eq(accounts.ergoAccounts.ownerUserId, user.userId)),
        ),
        setupAttempts:
          uids.length === 0
            ? 0
            : await count(
                db
                  .select({ n: sql<number>`count(*)::int` })
                  .from(accounts.bouncerSetupAttempts)
                  .where(inArray(accounts.bouncerSetupAttempts.bouncerUid, uids)),
              ),
        upstreamStates:
          uids.length === 0
            ? 0
            : await count(
                db
                  .select({ n: sql<number>`count(*)::int` })
                  .from(accounts.bouncerUpstreamStates)
                  .where(
                    and(
                      eq(accounts.bouncerUpstreamStates.namespace, NS),
                      inArray(accounts.bouncerUpstreamStates.bouncerUid, uids),
                    ),
                  ),
              ),
        auditMentions: audit[0]?.n ?? 0,
      };
    },

    async stop() {
      await w.close();
      await kc.stop();
      await ergo.stop();
      await kube.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Everything of a user still there (a bystander's traces after someone else's deletion). */
export function intact(user: Seeded): Traces {
  return {
    bouncerCrs: user.bouncers.length,
    ergoAccount: true,
    secret: true,
    keycloakUser: true,
    userRow: true,
    appPasswords: 1,
    ergoAccountRows: 1,
    setupAttempts: user.bouncers.length,
    upstreamStates: user.bouncers.length,
    auditMentions: user.bouncers.length > 0 ? 1 : 0,
  };
}

export const gone: Traces = {
  bouncerCrs: 0,
  ergoAccount: false,
  secret: false,
  keycloakUser: false,
  userRow: false,
  appPasswords: 0,
  ergoAccountRows: 0,
  setupAttempts: 0,
  upstreamStates: 0,
  auditMentions: 0,
};

/** deps with one fault: `port` throws once, before (`before`) or after (`after`) doing its work. */
export type FaultStep =
  "bouncers" | "ergo_account" | "ergo_secret" | "subscription" | "keycloak_user" | "accounts_rows";

export function withFault(
  deps: DeletionDeps,
  step: FaultStep,
  when: "before" | "after",
): { deps: DeletionDeps; fired: () => boolean } {
  let fired = false;
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (fired) return fn(...args);
      fired = true;
      if (when === "before") throw new Error(`injected fault before ${step}`);
      await fn(...args);
      throw new Error(`injected crash after ${step}`);
    };
  const d: DeletionDeps = { ...deps };
  switch (step) {
    case "bouncers":
      d.bouncers = {
        ...deps.bouncers,
        listByOwner: deps.bouncers.listByOwner.bind(deps.bouncers),
        deleteByOwner: wrap(deps.bouncers.deleteByOwner.bind(deps.bouncers)),
      };
      break;
    case "ergo_account":
      d.ergo = {
        ...deps.ergo,
        checkCredentials: deps.ergo.checkCredentials.bind(deps.ergo),
        unregisterAccount: wrap(deps.ergo.unregisterAccount.bind(deps.ergo)),
      };
      break;
    case "ergo_secret":
      d.credentials = { ...deps.credentials, delete: wrap(deps.credentials.delete) };
      break;
    case "subscription":
      d.billing = { cancelSubscription: wrap(deps.billing.cancelSubscription.bind(deps.billing)) };
      break;
    case "keycloak_user":
      d.keycloak = { deleteUser: wrap(deps.keycloak.deleteUser.bind(deps.keycloak)) };
      break;
    case "accounts_rows":
      d.store = { ...deps.store, deleteAccountRows: wrap(deps.store.deleteAccountRows) };
      break;
  }
  return { deps: d, fired: () => fired };
}
