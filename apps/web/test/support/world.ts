import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { createAccountsDb, type accounts, type AccountsDb } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import { BouncerApi, createKubeClients } from "@irc-now/k8s";
import { startKubeStandin, type KubeStandin } from "@irc-now/standins/kube";
import type { DomainContext } from "~/server/domain/context";

/** A real accounts DB and a Kubernetes API stand-in, wired like production. */
export interface World {
  kube: KubeStandin;
  db: AccountsDb;
  databaseUrl: string;
  kubeconfigPath: string;
  ctx: DomainContext;
  stop(): Promise<void>;
}

export async function startWorld(
  postgresUrl: string,
  options: { pool?: accounts.AccountsDbOptions } = {},
): Promise<World> {
  const databaseUrl = await createTestDatabase(postgresUrl, "web");
  await migrateAccounts(databaseUrl);
  const kube = await startKubeStandin({ namespaces: ["irc-now"] });
  const kubeDir = await mkdtemp(join(tmpdir(), "irc-now-kube-"));
  const kubeconfigPath = join(kubeDir, "config");
  await kube.writeKubeConfig(kubeconfigPath);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const db = createAccountsDb(databaseUrl, options.pool);
  const ctx: DomainContext = {
    db,
    bouncers: new BouncerApi(createKubeClients({ kubeConfig: kc }).objects, "irc-now"),
    namespace: "irc-now",
    quotas: { free: 1, pro: 3 },
    publicEndpoint: { host: "{name}.bouncer.irc.now", port: 6697, tls: true },
    ergoAdminNick: "irc-now-admin",
  };
  return {
    kube,
    db,
    databaseUrl,
    kubeconfigPath,
    ctx,
    async stop() {
      await db.$client.end();
      await kube.stop();
      await rm(kubeDir, { recursive: true, force: true });
    },
  };
}
