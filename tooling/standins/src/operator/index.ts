/**
 * Simulated soju-operator for tests and `npm run dev` (the real one is external). On a new
 * SojuBouncer in the Kubernetes stand-in it does what the operator does, in order:
 * tenant database in PostgreSQL → secret `{name}-db` (CloudNativePG app-secret keys) → a soju
 * stand-in "pod" (label `irc.now/bouncer=<name>`, container `soju` whose exec runs a real `sh`
 * with `sojuctl` on its PATH, see kube/pod-image.ts) → the soju
 * user → `Ready=True` after a delay. Deleting the pod restarts that soju (it re-reads its DB),
 * as a ReplicaSet would; deleting the CR removes pod, secret and database.
 * Delays and failures are settings so tests can provoke the races the real system has.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pg from "pg";
import { LABEL_BOUNCER } from "@irc-now/k8s";
import { podImageExecHandler, type KubeStandin, type StoreEvent } from "../kube/index";
import { startSojuStandin, type SojuStandin } from "../soju/index";

const CR = "sojubouncers.irc.now";

export interface OperatorOptions {
  kube: KubeStandin;
  /** URL of the PostgreSQL server's `postgres` database (tenant DBs are created on it). */
  postgresUrl: string;
  namespace?: string;
  /** Admin socket path per bouncer; `{name}` is replaced (default: a temp dir). */
  adminSocketPath?: string;
  /** Delay between the soju pod running and Ready=True (default 500 ms). */
  readyDelayMs?: number | ((name: string) => number);
  /** Delay before the soju user is created; > readyDelayMs provokes "Ready but no user yet". */
  userDelayMs?: number | ((name: string) => number);
  /** Make provisioning of a bouncer fail with this message (status Ready=False). */
  failProvisioning?: (name: string) => string | undefined;
  /** Start a downstream listener in each soju (for IRC clients in dev). */
  downstream?: boolean;
  /**
   * soju's `auth http` URL per bouncer, `{name}` replaced by the bouncer's name, e.g.
   * `http://127.0.0.1:3000/api/soju/auth/{name}` (the portal's `SOJU_AUTH_PATH`). Then IRC
   * clients log in with the portal's app passwords, and the soju user is created with
   * `-disable-password` (soju no longer reads its own passwords). Unset: soju checks a random
   * password of its own, `userPassword`.
   */
  authHttpUrl?: string;
  log?: (line: string) => void;
}

export interface ManagedBouncer {
  name: string;
  database: string;
  databaseUrl: string;
  soju: SojuStandin;
  podName: string;
  /** The soju user's password (for an IRC client in dev); none when soju uses `auth http`. */
  userPassword: string | undefined;
  /** soju's `auth http` URL, when the operator was given `authHttpUrl`. */
  authHttp: string | undefined;
}

export interface Operator {
  bouncers(): ManagedBouncer[];
  get(name: string): ManagedBouncer | undefined;
  /** Resolves when the bouncer is fully provisioned (or rejects with the provisioning error). */
  provisioned(name: string): Promise<ManagedBouncer>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const valueOf = (
  v: number | ((name: string) => number) | undefined,
  name: string,
  fallback: number,
) => (typeof v === "function" ? v(name) : (v ?? fallback));

export function startOperator(options: OperatorOptions): Operator {
  const { kube } = options;
  const namespace = options.namespace ?? "irc-now";
  const socketTemplate =
    options.adminSocketPath ??
    join(tmpdir(), `irc-now-soju-${randomBytes(4).toString("hex")}`, "{name}", "admin.sock");
  const log = options.log ?? (() => undefined);
  const managed = new Map<string, ManagedBouncer>();
  const inProgress = new Map<string, Promise<ManagedBouncer>>();
  const deleting = new Set<string>();
  let stopped = false;

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: options.postgresUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  const setReady = (name: string, status: "True" | "False", reason: string, message: string) => {
    if (!kube.objects.find(CR, namespace, name)) return;
    kube.objects.patch(
      CR,
      namespace,
      name,
      {
        status: {
          conditions: [
            {
              type: "Ready",
              status,
              reason,
              message,
              lastTransitionTime: new Date().toISOString(),
            },
          ],
        },
      },
      { subresource: "status" },
    );
  };

  const createPod = (b: ManagedBouncer) => {
    kube.createPod({
      namespace,
      name: b.podName,
      labels: { [LABEL_BOUNCER]: b.name, "app.kubernetes.io/name": "soju" },
      containers: [{ name: "soju", image: "codeberg.org/emersion/soju:v0.10.1" }],
      // The image: a POSIX sh (run for real) and sojuctl, which reaches this bouncer's soju.
      exec: {
        soju: podImageExecHandler({
          commands: {
            sojuctl: async (argv, io) => {
              const result = await b.soju.runSojuctl(argv);
              io.stdout.write(result.stdout);
              io.stderr.write(result.stderr);
              return result.exitCode;
            },
          },
        }),
      },
    });
  };

  async function provision(name: string, username: string): Promise<ManagedBouncer> {
    const failure = options.failProvisioning?.(name);
    if (failure) {
      setReady(name, "False", "ProvisioningFailed", failure);
      throw new Error(failure);
    }
    setReady(name, "False", "Provisioning", "creating the tenant database");
    const database = `soju_${name.replace(/-/g, "_")}`;
    const password = randomBytes(12).toString("hex");
    const role = `${database}_app`;
    await admin(async (c) => {
      await c.query(
        `CREATE ROLE ${c.escapeIdentifier(role)} LOGIN PASSWORD ${c.escapeLiteral(password)}`,
      );
      await c.query(
        `CREATE DATABASE ${c.escapeIdentifier(database)} OWNER ${c.escapeIdentifier(role)}`,
      );
    });
    const server = new URL(options.postgresUrl);
    const databaseUrl = `postgresql://${encodeURIComponent(role)}:${password}@${server.hostname}:${server.port}/${database}`;
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    kube.objects.create("secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `${name}-db`, namespace, labels: { [LABEL_BOUNCER]: name } },
      type: "kubernetes.io/basic-auth",
      data: {
        host: b64(server.hostname),
        port: b64(server.port),
        dbname: b64(database),
        user: b64(role),
        username: b64(role),
        password: b64(password),
        uri: b64(databaseUrl),
      },
    });
    const authHttp = options.authHttpUrl?.split("{name}").join(name);
    const soju = await startSojuStandin({
      databaseUrl,
      adminSocketPath: socketTemplate.split("{name}").join(name),
      downstream: options.downstream ? { host: "127.0.0.1", port: 0 } : undefined,
      authHttp,
      log: (line) => log(`[soju ${name}] ${line}`),
    });
    const bouncer: ManagedBouncer = {
      name,
      database,
      databaseUrl,
      soju,
      podName: `${name}-soju-0`,
      userPassword: authHttp ? undefined : randomBytes(9).toString("base64url"),
      authHttp,
    };
    managed.set(name, bouncer);
    createPod(bouncer);
    const readyDelay = valueOf(options.readyDelayMs, name, 500);
    const userDelay = valueOf(options.userDelayMs, name, 0);
    const createUser = async () => {
      await sleep(userDelay);
      const password =
        bouncer.userPassword === undefined
          ? ["-disable-password"]
          : ["-password", bouncer.userPassword];
      const r = await soju.runSojuctl([
        "-config",
        soju.configPath,
        "user",
        "create",
        "-username",
        username,
        ...password,
      ]);
      if (r.exitCode !== 0 && !/already exists/.test(r.stderr))
        log(`[operator] user create for ${name} failed: ${r.stderr.trim()}`);
    };
    const ready = async () => {
      await sleep(readyDelay);
      setReady(name, "True", "Running", "soju is running");
    };
    await Promise.all([createUser(), ready()]);
    const irc = soju.downstreamAddress;
    const login =
      bouncer.userPassword === undefined
        ? "an app password from the dashboard"
        : `password ${bouncer.userPassword}`;
    log(
      `[operator] ${name} is Ready${irc ? ` (IRC clients: ${irc.host}:${irc.port}, user ${username}, ${login})` : ""}`,
    );
    return bouncer;
  }

  async function teardown(name: string): Promise<void> {
    deleting.add(name);
    await inProgress.get(name)?.catch(() => undefined);
    const b = managed.get(name);
    managed.delete(name);
    if (b) {
      await b.soju.stop().catch(() => undefined);
      if (kube.objects.find("pods", namespace, b.podName))
        kube.objects.delete("pods", namespace, b.podName);
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(b.database)} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(`${b.database}_app`)}`);
      }).catch((e: unknown) => log(`[operator] dropping ${b.database} failed: ${String(e)}`));
    }
    if (kube.objects.find("secrets", namespace, `${name}-db`))
      kube.objects.delete("secrets", namespace, `${name}-db`);
    deleting.delete(name);
  }

  const onEvent = (event: StoreEvent) => {
    if (stopped) return;
    const obj = event.object;
    if (obj.metadata.namespace !== namespace) return;
    const name = obj.metadata.name;
    if (event.resource === CR) {
      if (event.type === "ADDED") {
        const username = (obj.spec as { username?: string } | undefined)?.username ?? name;
        const p = provision(name, username);
        inProgress.set(name, p);
        p.catch((e: unknown) =>
          log(
            `[operator] provisioning ${name} failed: ${e instanceof Error ? e.message : String(e)}`,
          ),
        ).finally(() => inProgress.delete(name));
      } else if (event.type === "DELETED") {
        void teardown(name);
      }
    } else if (event.resource === "pods" && event.type === "DELETED") {
      const bouncerName = obj.metadata.labels?.[LABEL_BOUNCER];
      const b = bouncerName ? managed.get(bouncerName) : undefined;
      if (b && !deleting.has(b.name) && obj.metadata.name === b.podName) {
        // Like a ReplicaSet: a new pod, and soju starts again (loading its DB afresh). The pod
        // object comes first, as a container only ever runs in an existing pod: a writer that
        // finds no pod to delete (sql-restart) relies on the next start loading its write.
        queueMicrotask(() => {
          if (stopped || deleting.has(b.name) || managed.get(b.name) !== b) return;
          createPod(b);
          void b.soju
            .restart()
            .catch((e: unknown) => log(`[operator] restarting ${b.name} failed: ${String(e)}`));
        });
      }
    }
  };
  const unsubscribe = kube.objects.watch(onEvent);

  return {
    bouncers: () => [...managed.values()],
    get: (name) => managed.get(name),
    async provisioned(name) {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const p = inProgress.get(name);
        if (p) return p;
        const m = managed.get(name);
        if (m) return m;
        await sleep(20);
      }
      throw new Error(`bouncer ${name} was not provisioned within 30 s`);
    },
    async stop() {
      stopped = true;
      unsubscribe();
      await Promise.allSettled([...inProgress.values()]);
      await Promise.allSettled([...managed.values()].map((b) => b.soju.stop()));
      managed.clear();
    },
  };
}
