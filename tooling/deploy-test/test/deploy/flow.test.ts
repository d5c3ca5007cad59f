import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { accounts, createAccountsDb, type AccountsDb } from "@irc-now/db";
import { createTestDatabase, freePort } from "@irc-now/db/testing";
import {
  ANNOTATION_UPSTREAM_CONFIGURED,
  BouncerApi,
  createKubeClients,
  ergoCredentialSecretName,
  type SojuBouncer,
} from "@irc-now/k8s";
import { ergoProbe, startSoju, type RealSoju } from "@irc-now/peers";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { DomainContext } from "../../../../apps/web/src/server/domain/context";
import { retryBouncerSetup } from "../../../../apps/web/src/server/domain/admin";
import {
  createBouncer,
  deleteBouncer,
  listMyBouncers,
} from "../../../../apps/web/src/server/domain/bouncers";
import { kubectl, REPO_ROOT } from "../../src/kubectl";
import { find, parseYaml, renderYaml, type K8sObject } from "../../src/manifests";
import { ACCOUNT_VERBS, NAMESPACE, parseCanIList } from "../../src/policy";

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is walked as plain data */

/**
 * deploy/ on the REAL kube-apiserver 1.24 of the peers kit: kustomize → server dry-run → apply;
 * then the apps run with the tokens of the manifests' own ServiceAccounts (TokenRequest through
 * `kubectl create token`) for one bouncer's life: the web's domain functions create it, the test
 * plays the operator (tenant DB, `{name}-db`, a real soju, Ready), the worker bundle sets it up over
 * soju's admin socket against the real ergo, an admin retries it through the web, the user deletes
 * it. No kubelet runs there: pods never start, so the apps run here, as the accounts.
 *
 * The steps depend on each other and run in order. Taking any rule out of a Role fails a step by
 * name: "each account has exactly its verbs" always, and the step that uses it (see docs/deploy.md).
 */
const peers = inject("peers");
const postgresUrl = inject("postgresUrl");
if (!peers?.kube || !peers.ergo)
  throw new Error(
    "test:deploy needs the peers kit: REAL_PEERS=1 and PEERS_KIT (or ../shared/peers)",
  );
const kube = peers.kube;
const ergo = peers.ergo;
const adminKc = ["--kubeconfig", kube.kubeconfigPath];
const GROUP = {
  group: "irc.now",
  version: "v1alpha1",
  namespace: NAMESPACE,
  plural: "sojubouncers",
};
const BOUNCER = "dana";
const USERNAME = "dana";
const dir = join(peers.stateRoot, "deploy");
mkdirSync(dir, { recursive: true });

const adminApi = (() => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  return { objects: kc.makeApiClient(CustomObjectsApi), core: kc.makeApiClient(CoreV1Api) };
})();

let app: K8sObject[] = [];
let migrateJob: K8sObject[] = [];
const kubeconfigOf: Record<string, string> = {};
let databaseUrl = "";
let db: AccountsDb | undefined;
const children: ChildProcess[] = [];
let soju: RealSoju | undefined;
let workerBase = "";
const pids: Record<string, number> = {};
let web: DomainContext;
let dana: { id: string; username: string; plan: "pro" | "free" };
const ergoSide = ergoProbe(ergo);

afterAll(async () => {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null
        ? new Promise((r) => c.once("exit", r))
        : undefined,
    ),
  );
  await soju?.stop();
  await db?.$client.end();
});

/** Env of a Deployment's container from the rendered ConfigMaps (secrets are the test's own). */
function configOf(deployment: string): Record<string, string> {
  const pod = (find(app, "Deployment", deployment) as any).spec.template.spec;
  const env: Record<string, string> = {};
  for (const from of pod.containers[0].envFrom ?? [])
    Object.assign(env, (find(app, "ConfigMap", from.configMapRef.name) as any).data);
  for (const e of pod.containers[0].env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}

function start(name: string, args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => `${name}:\n${output}` };
}

async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A bare pods/exec request with an account's token (no kubectl: it would GET the pod first). */
async function execRequest(method: string, account: string) {
  const config = JSON.parse(readFileSync(kubeconfigOf[account]!, "utf8")) as {
    users: { user: { token: string } }[];
  };
  const url = new URL(
    `${kube.apiUrl}/api/v1/namespaces/${NAMESPACE}/pods/soju-pod/exec?container=soju&command=true&stdout=true`,
  );
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(kube.caFile),
        headers: { Authorization: `Bearer ${config.users[0]!.user.token}` },
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const bouncer = async (name: string) =>
  (await adminApi.objects
    .getNamespacedCustomObject({ ...GROUP, name })
    .catch(() => null)) as SojuBouncer | null;

const attempts = async () =>
  db!
    .select()
    .from(accounts.bouncerSetupAttempts)
    .where(eq(accounts.bouncerSetupAttempts.bouncer, BOUNCER));

describe("deploy/ on a real kube-apiserver 1.24, run by its own ServiceAccounts", () => {
  it("renders the production overlay and its migrations with kustomize", () => {
    app = parseYaml(renderYaml("overlays/production"));
    migrateJob = parseYaml(renderYaml("overlays/production/migrate"));
    expect(app.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Namespace", "CustomResourceDefinition", "Deployment", "Ingress"]),
    );
    expect(migrateJob.map((o) => o.kind)).toContain("Job");
  });

  it("the apiserver accepts every object with --dry-run=server, then for real", () => {
    const ns = app.filter((o) => o.kind === "Namespace");
    kubectl([...adminKc, "apply", "-f", "-"], {
      input: JSON.stringify({ kind: "List", apiVersion: "v1", items: ns }),
    });
    const all = JSON.stringify({ kind: "List", apiVersion: "v1", items: [...app, ...migrateJob] });
    const dry = kubectl([...adminKc, "apply", "--dry-run=server", "-f", "-"], { input: all });
    expect(dry).toContain("deployment.apps/irc-now-web created (server dry run)");
    expect(dry).toContain("job.batch/irc-now-migrate created (server dry run)");
    const applied = kubectl([...adminKc, "apply", "-f", "-"], { input: all });
    for (const o of [...app, ...migrateJob])
      expect(applied).toMatch(new RegExp(`/${o.metadata.name} (created|configured|unchanged)`));
    kubectl([
      ...adminKc,
      "wait",
      "--for=condition=established",
      "--timeout=60s",
      "crd/sojubouncers.irc.now",
    ]);
  });

  it("issues each ServiceAccount a token (TokenRequest) and writes its kubeconfig", () => {
    for (const account of Object.keys(ACCOUNT_VERBS)) {
      const token = kubectl([
        ...adminKc,
        "-n",
        NAMESPACE,
        "create",
        "token",
        account,
        "--duration=2h",
      ]).trim();
      expect(token.split(".")).toHaveLength(3);
      const path = join(dir, `${account}.kubeconfig`);
      writeFileSync(
        path,
        JSON.stringify({
          apiVersion: "v1",
          kind: "Config",
          clusters: [
            { name: "kit", cluster: { server: kube.apiUrl, "certificate-authority": kube.caFile } },
          ],
          users: [{ name: account, user: { token } }],
          contexts: [
            { name: account, context: { cluster: "kit", user: account, namespace: NAMESPACE } },
          ],
          "current-context": account,
        }),
        { mode: 0o600 },
      );
      kubeconfigOf[account] = path;
    }
  });

  it("each account has exactly its verbs (kubectl auth can-i --list, with its own token)", () => {
    for (const [account, table] of Object.entries(ACCOUNT_VERBS)) {
      const list = kubectl([
        "--kubeconfig",
        kubeconfigOf[account]!,
        "auth",
        "can-i",
        "--list",
        "-n",
        NAMESPACE,
      ]);
      expect(parseCanIList(list), account).toEqual(table);
    }
    // And nothing beyond its namespace.
    for (const account of Object.keys(ACCOUNT_VERBS)) {
      const other = kubectl([
        "--kubeconfig",
        kubeconfigOf[account]!,
        "auth",
        "can-i",
        "--list",
        "-n",
        "default",
      ]);
      expect(parseCanIList(other), account).toEqual({});
    }
  });

  it("the migrations Job's command migrates the accounts DB (node dist/migrate.js)", async () => {
    const job = (find(migrateJob, "Job", "irc-now-migrate") as any).spec.template.spec
      .containers[0];
    databaseUrl = await createTestDatabase(postgresUrl, "deploy_accounts");
    const run = start("migrate", [join("apps/worker", job.args[0])], { DATABASE_URL: databaseUrl });
    const code = await new Promise((r) => run.child.once("exit", r));
    expect(code, run.output()).toBe(0);
    expect(run.output()).toContain("accounts DB: migrations applied");
    db = createAccountsDb(databaseUrl, { max: 2 });
  });

  it("the worker bundle runs as irc-now-worker: it takes the Lease, lists the bouncers and is ready", async () => {
    const port = await freePort();
    workerBase = `http://127.0.0.1:${port}`;
    // The Deployment's own command line: node <flags> dist/main.js (the image's WORKDIR is the bundle's parent).
    const args = (find(app, "Deployment", "irc-now-worker") as any).spec.template.spec.containers[0]
      .args as string[];
    const worker = start("worker", [...args.slice(0, -1), join("apps/worker", args.at(-1)!)], {
      ...configOf("irc-now-worker"),
      // What differs from the cluster: where things are on this machine, and the socket adapter
      // (pods/exec needs a kubelet).
      KUBECONFIG: kubeconfigOf["irc-now-worker"]!,
      DATABASE_URL: databaseUrl,
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(port),
      ERGO_IRC_URL: ergo.ircUrl,
      ERGO_OPER_NAME: ergo.oper.name,
      ERGO_OPER_PASSWORD: ergo.oper.password,
      SOJU_ADMIN: "socket",
      SOJU_ADMIN_SOCKET: join(dir, "{name}", "admin.sock"),
      SOJU_UPSTREAM_ADDR: `irc+insecure://127.0.0.1:${ergo.port}`,
      // No Keycloak here: a closed local port (the outbox drain retries; nothing else needs it).
      KEYCLOAK_ISSUER: `http://127.0.0.1:${await freePort()}/realms/irc-now`,
      KEYCLOAK_ADMIN_CLIENT_SECRET: "deploy-test-admin-secret",
      HOSTNAME: "irc-now-worker-0",
    });
    const ready = await until(async () => {
      if (worker.child.exitCode !== null) throw new Error(worker.output());
      const r = await fetch(`${workerBase}/readyz`);
      const body = (await r.json()) as { isLeader?: boolean; synced?: boolean };
      return r.status === 200 && body.isLeader && body.synced ? body : undefined;
    }, `the worker to lead and sync\n${worker.output()}`);
    expect(ready).toMatchObject({ db: true, isLeader: true, synced: true });
    pids.worker = worker.child.pid!;
    const lease = kubectl([
      ...adminKc,
      "-n",
      NAMESPACE,
      "get",
      "lease",
      "irc-now-worker",
      "-o",
      "json",
    ]);
    expect(JSON.parse(lease).spec.holderIdentity).toMatch(/^irc-now-worker-0-/);
  });

  it("the web's standalone server runs as irc-now-web and answers /api/healthz", async () => {
    const port = await freePort();
    const server = start("web", ["apps/web/.next/standalone/apps/web/server.js"], {
      ...configOf("irc-now-web"),
      KUBECONFIG: kubeconfigOf["irc-now-web"]!,
      DATABASE_URL: databaseUrl,
      AUTH_SECRET: "deploy-test-auth-secret-0123456789abcdef",
      AUTH_URL: `http://127.0.0.1:${port}`,
      KEYCLOAK_ISSUER: `http://127.0.0.1:${await freePort()}/realms/irc-now`,
      KEYCLOAK_CLIENT_SECRET: "deploy-test-client-secret",
      KEYCLOAK_ADMIN_CLIENT_SECRET: "deploy-test-admin-secret",
      // No Stripe either (nothing here pays): a closed local port.
      STRIPE_SECRET_KEY: "sk_test_deploy_test",
      STRIPE_WEBHOOK_SECRET: "whsec_deploy_test",
      STRIPE_PRICE_PRO: "price_deploy_test",
      STRIPE_API_URL: `http://127.0.0.1:${await freePort()}`,
      HOSTNAME: "127.0.0.1",
      PORT: String(port),
    });
    const health = await until(async () => {
      if (server.child.exitCode !== null) throw new Error(server.output());
      const r = await fetch(`http://127.0.0.1:${port}/api/healthz`);
      return r.status === 200 ? r.json() : undefined;
    }, `the web server's /api/healthz\n${server.output()}`);
    expect(health).toEqual({ status: "ok", db: true });
    pids.web = server.child.pid!;
  });

  it("a user creates a bouncer through the web's domain with irc-now-web's token (get, list, create)", async () => {
    const config = configOf("irc-now-web");
    const clients = createKubeClients({ kubeconfigPath: kubeconfigOf["irc-now-web"] });
    web = {
      db: db!,
      bouncers: new BouncerApi(clients.objects, NAMESPACE),
      namespace: NAMESPACE,
      quotas: { free: Number(config.PLAN_QUOTA_FREE), pro: Number(config.PLAN_QUOTA_PRO) },
      publicEndpoint: { host: "{name}.bouncer.irc.now", port: 6697, tls: true },
      ergoAdminNick: configOf("irc-now-worker").ERGO_ADMIN_NICK ?? "irc-now-admin",
    };
    const [row] = await db!
      .insert(accounts.users)
      .values({ keycloakSubject: `kc-${USERNAME}`, username: USERNAME, plan: "pro" })
      .returning({ id: accounts.users.id });
    dana = { id: row!.id, username: USERNAME, plan: "pro" };
    const view = await createBouncer(web, dana, BOUNCER);
    expect(view.name).toBe(BOUNCER);
    expect((await listMyBouncers(web, dana)).map((b) => b.name)).toEqual([BOUNCER]);
    expect((await bouncer(BOUNCER))?.spec).toEqual({ username: USERNAME, plan: "pro" });
  });

  it("the operator (the test, as admin) provisions it: tenant DB, {name}-db, a real soju, Ready", async () => {
    const tenantUrl = await createTestDatabase(postgresUrl, `soju_${BOUNCER}`);
    await adminApi.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: `${BOUNCER}-db` }, stringData: { uri: tenantUrl } },
    });
    soju = await startSoju({ databaseUrl: tenantUrl, stateDir: join(dir, BOUNCER) });
    await soju.bouncerServ("user", "create", "-username", USERNAME, "-disable-password");
    const created = (await bouncer(BOUNCER))!;
    await adminApi.objects.replaceNamespacedCustomObjectStatus({
      ...GROUP,
      name: BOUNCER,
      body: {
        ...created,
        status: {
          conditions: [{ type: "Ready", status: "True", reason: "Provisioned", message: "" }],
        },
      },
    });
  });

  it("the worker sets it up over soju's admin socket: credential Secret, annotation, logged in to ergo", async () => {
    await until(
      async () =>
        (await bouncer(BOUNCER))?.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED] === "true",
      "the annotation irc.now/upstream-configured",
      90_000,
    );
    const secret = await adminApi.core.readNamespacedSecret({
      namespace: NAMESPACE,
      name: ergoCredentialSecretName(USERNAME),
    });
    const password = Buffer.from(secret.data!.password!, "base64").toString("utf8");
    expect(await ergoSide.checkPassword(USERNAME, password)).toBe(true);
    expect(
      await until(async () => (await ergoSide.whoisAccount(USERNAME)) ?? undefined, "soju on ergo"),
    ).toBe(USERNAME);
    expect((await attempts()).map((a) => a.outcome)).toEqual(["succeeded"]);
  });

  it("an admin retries it through the web's domain (patch) and the worker sets it up again", async () => {
    const [admin] = await db!
      .insert(accounts.users)
      .values({ keycloakSubject: "kc-deploy-admin", username: "deploy-admin" })
      .returning({ id: accounts.users.id, username: accounts.users.username });
    await retryBouncerSetup(web, admin!, BOUNCER, "deploy test: retry through the web's account");
    await until(
      async () => (await attempts()).filter((a) => a.outcome === "succeeded").length === 2,
      "a second successful setup",
      90_000,
    );
    expect((await bouncer(BOUNCER))?.metadata.annotations?.[ANNOTATION_UPSTREAM_CONFIGURED]).toBe(
      "true",
    );
  });

  it("the user deletes it through the web's domain (delete)", async () => {
    await deleteBouncer(web, dana, BOUNCER, BOUNCER);
    expect(await bouncer(BOUNCER)).toBeNull();
    const health = await fetch(`${workerBase}/healthz`);
    expect(health.status).toBe(200);
    // Figures for docs/deploy.md "Resources": peak RSS of each process after the whole flow.
    for (const [name, pid] of Object.entries(pids)) {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const mb = (key: string) =>
        Math.round(Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1]) / 1024);
      console.log(`measured: ${name} VmRSS ${mb("VmRSS")} MB, VmHWM ${mb("VmHWM")} MB`);
    }
  });

  it("the worker's account may reach a bouncer's pod for exec: authorised, refused only for want of a kubelet", async () => {
    // Pods need their ServiceAccount to exist (no controller-manager makes `default`).
    kubectl([...adminKc, "-n", NAMESPACE, "create", "serviceaccount", "default"]);
    kubectl([...adminKc, "-n", NAMESPACE, "apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "soju-pod", labels: { "irc.now/bouncer": "pod-check" } },
        spec: { containers: [{ name: "soju", image: "soju" }] },
      }),
    });
    const asWorker = ["--kubeconfig", kubeconfigOf["irc-now-worker"]!, "-n", NAMESPACE];
    expect(
      kubectl([...asWorker, "get", "pods", "-l", "irc.now/bouncer=pod-check", "-o", "name"]).trim(),
    ).toBe("pod/soju-pod");
    // POST is what SPDY exec sends (verb create); GET what a WebSocket exec sends (verb get
    // before 1.30). Authorised, the apiserver then fails to reach a kubelet: there is none.
    for (const method of ["POST", "GET"]) {
      const worker = await execRequest(method, "irc-now-worker");
      expect(worker.status, `${method} ${worker.body}`).not.toBe(403);
      expect(worker.body).toMatch(/does not have a host assigned/);
      const web = await execRequest(method, "irc-now-web");
      expect(web.status, `${method} as web`).toBe(403);
    }
  });
});
