import { Writable } from "node:stream";
import { join } from "node:path";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { migrateAccounts } from "@irc-now/db/migrate";
import { createTestDatabase } from "@irc-now/db/testing";
import {
  ANNOTATION_RETRY_REQUESTED_AT,
  ANNOTATION_UPSTREAM_CONFIGURED,
  ergoCredentialSecretName,
  LABEL_OWNER,
  loadSojuBouncerCrd,
  type SojuBouncer,
} from "@irc-now/k8s";
import { ergoProbe, startSoju, type RealSoju } from "@irc-now/peers";
import { sql } from "drizzle-orm";
import { reconcileBouncer } from "../../src/bouncers/reconcile";
import { runSetup } from "../../src/bouncers/setup";
import { loadWorkerConfig } from "../../src/env";
import { createLogger } from "../../src/logger";
import { wire, type Wiring } from "../../src/wiring";
import { gate, holdAt } from "../support/gates";
import { until } from "../support/harness";

/**
 * Issue 10 against the real programs: the worker's setup with the `socket` adapter, driving a
 * real soju 0.10.1 per bouncer, against the real ergo 2.15.0, with its CRs, Secrets and
 * annotation preconditions on a real kube-apiserver 1.24. The test plays the operator: it
 * makes the tenant DB, the `{name}-db` secret, starts soju, creates the soju user and sets Ready.
 */
const peers = inject("peers")!;
const postgresUrl = inject("postgresUrl");
const NS = "irc-now";
const GROUP = { group: "irc.now", version: "v1alpha1", namespace: NS, plural: "sojubouncers" };

let kc: KubeConfig;
let w: Wiring;
let logs: string[];
const sojus = new Map<string, RealSoju>();
const probe = ergoProbe(peers.ergo!);
const socketRoot = join(peers.stateRoot, "worker-sojus");

beforeAll(async () => {
  kc = new KubeConfig();
  kc.loadFromFile(peers.kube!.kubeconfigPath);
  const crd = loadSojuBouncerCrd() as unknown as V1CustomResourceDefinition;
  await kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
  // The CRD is served a moment after it is created.
  await until(
    () =>
      kc
        .makeApiClient(CustomObjectsApi)
        .listNamespacedCustomObject(GROUP)
        .then(() => true)
        .catch(() => false),
    "the SojuBouncer CRD to be served",
    60_000,
  );
  const databaseUrl = await createTestDatabase(postgresUrl, "worker_peers");
  await migrateAccounts(databaseUrl);
  const config = loadWorkerConfig({
    DATABASE_URL: databaseUrl,
    KUBECONFIG: peers.kube!.kubeconfigPath,
    K8S_NAMESPACE: NS,
    ERGO_IRC_URL: peers.ergo!.ircUrl,
    ERGO_OPER_NAME: peers.ergo!.oper.name,
    ERGO_OPER_PASSWORD: peers.ergo!.oper.password,
    SOJU_ADMIN: "socket",
    SOJU_ADMIN_SOCKET: join(socketRoot, "{name}", "admin.sock"),
    SOJU_UPSTREAM_ADDR: `irc+insecure://127.0.0.1:${peers.ergo!.port}`,
    KEYCLOAK_ISSUER: "http://127.0.0.1:9/realms/irc-now",
    KEYCLOAK_ADMIN_CLIENT_ID: "irc-now-admin-api",
    KEYCLOAK_ADMIN_CLIENT_SECRET: "unused-in-this-test",
    LOG_LEVEL: "debug",
  });
  logs = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  w = wire(config, createLogger("debug", "worker-peers", sink), { identity: "peers-worker" });
  w.deps.settings.verifyTimeoutMs = 30_000;
  w.deps.settings.verifyPollMs = 200;
});

afterAll(async () => {
  await w?.close();
  await Promise.allSettled([...sojus.values()].map((s) => s.stop()));
});

async function userId(username: string): Promise<string> {
  const [row] = await w.db
    .insert(accounts.users)
    .values({ keycloakSubject: `kc-${username}`, username })
    .onConflictDoUpdate({ target: accounts.users.username, set: { updatedAt: sql`now()` } })
    .returning({ id: accounts.users.id });
  return row!.id;
}

/** What the web app and the operator do for a new bouncer, up to Ready=True. */
async function provision(name: string, username: string): Promise<void> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const created = (await objects.createNamespacedCustomObject({
    ...GROUP,
    body: {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: { name, labels: { [LABEL_OWNER]: await userId(username) } },
      spec: { username, plan: "pro" },
    },
  })) as SojuBouncer;
  const tenantUrl = await createTestDatabase(postgresUrl, `soju_${name.replace(/-/g, "_")}`);
  await core.createNamespacedSecret({
    namespace: NS,
    body: { metadata: { name: `${name}-db` }, stringData: { uri: tenantUrl } },
  });
  const soju = await startSoju({ databaseUrl: tenantUrl, stateDir: join(socketRoot, name) });
  sojus.set(name, soju);
  await soju.bouncerServ("user", "create", "-username", username, "-disable-password");
  await objects.replaceNamespacedCustomObjectStatus({
    ...GROUP,
    name,
    body: {
      ...created,
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "Provisioned", message: "" }],
      },
    },
  });
}

async function annotations(name: string): Promise<Record<string, string>> {
  return (await w.bouncers.get(name))?.metadata.annotations ?? {};
}

async function sojuSees(name: string, username: string) {
  return (await w.deps.soju.saslStatus(name, username, "irc.now")).state;
}

async function credential(username: string): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace: NS, name: ergoCredentialSecretName(username) });
  return Buffer.from(secret.data!["password"]!, "base64").toString("utf8");
}

describe("upstream setup against real ergo 2.15, soju 0.10.1 and kube-apiserver 1.24", () => {
  it("a pro user's two bouncers: one credential, each soju logged in, annotated on the real apiserver", async () => {
    await provision("pam-home", "pam");
    await provision("pam-work", "pam");
    for (const name of ["pam-home", "pam-work"]) {
      const { result } = await reconcileBouncer(w.deps, name);
      expect(result).toMatchObject({ outcome: "succeeded" });
      expect((await annotations(name))[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
    }
    const password = await credential("pam");
    expect(await probe.checkPassword("pam", password)).toBe(true);
    for (const name of ["pam-home", "pam-work"])
      expect(await sojuSees(name, "pam")).toEqual({ kind: "authenticated", account: "pam" });
    expect(await probe.whoisAccount("pam")).toBe("pam");
    expect(logs.join("")).not.toContain(password);
  });

  it("an admin retry on one keeps both logged in, even after soju restarts (reloading its DB)", async () => {
    await w.bouncers.clearConfigured("pam-home");
    const { result } = await reconcileBouncer(w.deps, "pam-home");
    expect(result).toMatchObject({ outcome: "succeeded", passwordSource: "secret", ergo: "reset" });
    for (const name of ["pam-home", "pam-work"]) {
      await sojus.get(name)!.restart();
      await until(
        async () => (await sojuSees(name, "pam").catch(() => null))?.kind === "authenticated",
        `${name} logged in after its restart`,
        60_000,
      );
    }
  });

  it("an ergo account the portal does not own is never reset: needs_admin", async () => {
    await probe.registerAccount("olaf", "olafs-own-password");
    await provision("olaf", "olaf");
    const { result, next } = await reconcileBouncer(w.deps, "olaf");
    expect(result).toMatchObject({ outcome: "needs_admin", step: "ensure_ergo_account" });
    expect(next).toBe("done");
    expect(await probe.checkPassword("olaf", "olafs-own-password")).toBe(true);
    expect((await annotations("olaf"))[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
  });

  it("the real apiserver refuses the annotation after an admin retry during the setup", async () => {
    await provision("rita", "rita");
    const bouncer = (await w.bouncers.get("rita"))!;
    const g = gate();
    const held = runSetup(
      { ...w.deps, soju: holdAt(w.deps.soju, "applyUpstreamNetwork", g) },
      bouncer,
    );
    await g.reached;
    await w.bouncers.patchAnnotations("rita", {
      [ANNOTATION_RETRY_REQUESTED_AT]: new Date().toISOString(),
    });
    g.open();
    expect(await held).toMatchObject({ outcome: "failed", step: "annotate", configured: false });
    expect((await annotations("rita"))[ANNOTATION_UPSTREAM_CONFIGURED]).toBeUndefined();
    expect((await reconcileBouncer(w.deps, "rita")).result).toMatchObject({
      outcome: "succeeded",
    });
    expect(await sojuSees("rita", "rita")).toEqual({ kind: "authenticated", account: "rita" });
  });
});
