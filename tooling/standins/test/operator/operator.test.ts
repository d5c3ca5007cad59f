import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { PassThrough, Readable } from "node:stream";
import { CoreV1Api, Exec, KubeConfig, type V1Status } from "@kubernetes/client-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type EmbeddedPg } from "@irc-now/db/testing";
import { startErgoStandin, type ErgoStandin } from "../../src/ergo/index";
import { startKubeStandin, type KubeStandin } from "../../src/kube/index";
import { startOperator, type Operator } from "../../src/operator/index";

const ns = "irc-now";
let pgServer: EmbeddedPg;
let kube: KubeStandin;
let ergo: ErgoStandin;
let operator: Operator;
let kc: KubeConfig;

async function until<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `sojuctl …` in the bouncer's pod through client-node's Exec (argv, or a shell reading stdin). */
async function sojuctl(
  pod: string,
  words: string[],
  shell?: { script: string; stdin: string },
): Promise<{ stdout: string; stderr: string; status: V1Status }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc)
      .exec(
        ns,
        pod,
        "soju",
        shell
          ? ["sh", "-c", shell.script, ...words]
          : ["sojuctl", "-config", "/etc/soju/config", ...words],
        stdout,
        stderr,
        shell ? Readable.from([shell.stdin]) : null,
        false,
        (s) => resolve(s),
      )
      .catch(reject);
  });
  return { stdout: out, stderr: err, status };
}

function createBouncer(name: string, username = name) {
  kube.objects.create("sojubouncers.irc.now", {
    apiVersion: "irc.now/v1alpha1",
    kind: "SojuBouncer",
    metadata: { name, namespace: ns },
    spec: { username, plan: "free" },
  });
}

const readyOf = (name: string) => {
  const cr = kube.objects.find("sojubouncers.irc.now", ns, name) as
    { status?: { conditions?: { type: string; status: string }[] } } | undefined;
  return cr?.status?.conditions?.find((c) => c.type === "Ready")?.status;
};

beforeAll(async () => {
  pgServer = await startEmbeddedPostgres();
  kube = await startKubeStandin({ namespaces: [ns] });
  ergo = await startErgoStandin();
  operator = startOperator({ kube, postgresUrl: pgServer.url(), readyDelayMs: 100 });
  kc = new KubeConfig();
  kc.loadFromString(kube.kubeConfigYaml());
});
afterAll(async () => {
  await operator?.stop();
  await ergo?.stop();
  await kube?.stop();
  await pgServer?.stop();
});

describe("simulated soju-operator", () => {
  it("provisions DB, secret, pod and soju user, then sets Ready=True", async () => {
    createBouncer("alice");
    await until(() => readyOf("alice") === "True", "Ready=True");
    const core = kc.makeApiClient(CoreV1Api);
    const secret = await core.readNamespacedSecret({ name: "alice-db", namespace: ns });
    const decoded = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
    expect(Object.keys(decoded).sort()).toEqual([
      "dbname",
      "host",
      "password",
      "port",
      "uri",
      "user",
      "username",
    ]);
    expect(decoded.uri).toMatch(/^postgresql:\/\//);
    const client = new pg.Client({ connectionString: decoded.uri });
    await client.connect();
    const { rows } = await client.query(`SELECT username FROM "User"`);
    const config = await client.query(`SELECT version FROM "Config"`);
    await client.end();
    expect(rows.map((r: { username: string }) => r.username)).toEqual(["alice"]);
    expect(config.rows[0].version).toBe(18);

    const pods = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: "irc.now/bouncer=alice",
    });
    expect(
      pods.items.map((p) => [
        p.metadata?.name,
        p.status?.phase,
        p.spec?.containers.map((c) => c.name),
      ]),
    ).toEqual([["alice-soju-0", "Running", ["soju"]]]);
  });

  it("runs sojuctl over exec, and the BouncerServ sequence logs soju in to ergo (WHOIS 330)", async () => {
    await operator.provisioned("alice");
    await until(() => readyOf("alice") === "True", "Ready=True");
    const ok = await sojuctl("alice-soju-0", ["user", "status"]);
    expect(ok.status.status).toBe("Success");
    expect(ok.stdout).toBe("alice: 0 networks\n");
    // The pod's image has a POSIX sh with sojuctl on its PATH (what the exec adapter runs).
    const viaShell = await sojuctl("alice-soju-0", ["/etc/soju/config"], {
      script: 'IFS= read -r a; IFS= read -r b; exec sojuctl -config "$0" "$a" "$b"',
      stdin: "user\nstatus\n",
    });
    expect(viaShell.status.status).toBe("Success");
    expect(viaShell.stdout).toBe("alice: 0 networks\n");

    const bad = await sojuctl("alice-soju-0", [
      "user",
      "create",
      "-username",
      "alice",
      "-password",
      "x",
    ]);
    expect(bad.status.status).toBe("Failure");
    expect(bad.stderr).toContain('could not create user: user "alice" already exists');

    ergo.registerAccount("alice", "Alice-ergo-pw1");
    const addr = `irc+insecure://127.0.0.1:${ergo.ircPort}`;
    for (const words of [
      [
        "user",
        "run",
        "alice",
        "network",
        "create",
        "-addr",
        addr,
        "-name",
        "irc.now",
        "-nick",
        "alice",
        "-username",
        "alice",
        "-enabled",
        "false",
      ],
      [
        "user",
        "run",
        "alice",
        "sasl",
        "set-plain",
        "-network",
        "irc.now",
        "alice",
        "Alice-ergo-pw1",
      ],
      ["user", "run", "alice", "network", "update", "irc.now", "-enabled", "true"],
    ]) {
      const r = await sojuctl("alice-soju-0", words);
      expect(r.status.status, r.stderr).toBe("Success");
    }
    expect(
      await until(() => ergo.whoisAccount("alice") ?? undefined, "ergo to show alice logged in"),
    ).toBe("alice");
  });

  it("restarts soju when its pod is deleted: rows written meanwhile become visible", async () => {
    const b = await operator.provisioned("alice");
    const client = new pg.Client({ connectionString: b.databaseUrl });
    await client.connect();
    await client.query(
      `INSERT INTO "Network" ("user", name, addr) SELECT id, 'sneaky', 'ircs://example.org' FROM "User" WHERE username = 'alice'`,
    );
    await client.end();
    const before = await sojuctl("alice-soju-0", ["user", "run", "alice", "network", "status"]);
    expect(before.stdout).not.toContain("sneaky");

    kube.objects.delete("pods", ns, "alice-soju-0");
    await until(() => kube.objects.find("pods", ns, "alice-soju-0"), "the pod to come back");
    const after = await until(async () => {
      const r = await sojuctl("alice-soju-0", ["user", "run", "alice", "network", "status"]).catch(
        () => undefined,
      );
      return r?.stdout.includes("sneaky") ? r : undefined;
    }, "soju to load the new row");
    expect(after.stdout).toContain("sneaky (ircs://example.org)");
  });

  it("replaces a deleted pod before the restarted soju reads its DB: a write that finds no pod to delete is still loaded", async () => {
    const b = await operator.provisioned("alice");
    const hold = new pg.Client({ connectionString: b.databaseUrl });
    await hold.connect();
    try {
      // Hold soju's start-up read of its users: the restarted soju cannot load until COMMIT.
      await hold.query("BEGIN");
      await hold.query('LOCK TABLE "User" IN ACCESS EXCLUSIVE MODE');
      kube.objects.delete("pods", ns, "alice-soju-0");
      // Like a ReplicaSet, the new pod object exists before its soju starts. The sql-restart
      // adapter relies on it: finding no pod, it skips the restart, as the next start loads
      // its write. (Before: the pod came back only once soju had loaded, so a write in
      // between was never loaded.)
      await until(
        () => kube.objects.find("pods", ns, "alice-soju-0"),
        "the new pod while soju is still loading",
        5_000,
      );
      await hold.query(
        `INSERT INTO "Network" ("user", name, addr) SELECT id, 'during-restart', 'ircs://example.org' FROM "User" WHERE username = 'alice'`,
      );
    } finally {
      await hold.query("COMMIT").catch(() => undefined);
      await hold.end();
    }
    const after = await until(async () => {
      const r = await sojuctl("alice-soju-0", ["user", "run", "alice", "network", "status"]).catch(
        () => undefined,
      );
      return r?.stdout.includes("during-restart") ? r : undefined;
    }, "soju to load the row written while it was starting");
    expect(after.stdout).toContain("during-restart (ircs://example.org)");
  });

  it("removes pod, secret and database when the CR is deleted", async () => {
    createBouncer("bob");
    const b = await operator.provisioned("bob");
    await until(() => readyOf("bob") === "True", "bob Ready");
    kube.objects.delete("sojubouncers.irc.now", ns, "bob");
    await until(
      () =>
        !kube.objects.find("secrets", ns, "bob-db") && !kube.objects.find("pods", ns, b.podName),
      "pod and secret to go",
    );
    const client = new pg.Client({ connectionString: pgServer.url() });
    await client.connect();
    const dbs = await until(async () => {
      const { rows } = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [
        b.database,
      ]);
      return rows.length === 0 ? true : undefined;
    }, "the tenant DB to be dropped");
    await client.end();
    expect(dbs).toBe(true);
    expect(operator.get("bob")).toBeUndefined();
  });

  it("with authHttpUrl, each soju asks <url>/<bouncer> on every login and its user has no password", async () => {
    const requests: { url?: string; authorization?: string }[] = [];
    let status = 200;
    const auth = http.createServer((req, res) => {
      requests.push({ url: req.url, authorization: req.headers.authorization });
      res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => auth.listen(0, "127.0.0.1", resolve));
    const { port } = auth.address() as AddressInfo;
    kube.objects.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "auth-ns" },
    });
    const withAuth = startOperator({
      kube,
      postgresUrl: pgServer.url(),
      namespace: "auth-ns",
      readyDelayMs: 10,
      downstream: true,
      authHttpUrl: `http://127.0.0.1:${port}/api/soju/auth/{name}`,
    });
    try {
      kube.objects.create("sojubouncers.irc.now", {
        apiVersion: "irc.now/v1alpha1",
        kind: "SojuBouncer",
        metadata: { name: "dana-bnc", namespace: "auth-ns" },
        spec: { username: "dana", plan: "free" },
      });
      const b = await withAuth.provisioned("dana-bnc");
      expect(b.authHttp).toBe(`http://127.0.0.1:${port}/api/soju/auth/dana-bnc`);
      expect(b.userPassword).toBeUndefined();
      const db = new pg.Client({ connectionString: b.databaseUrl });
      await db.connect();
      const { rows } = await db.query(`SELECT username, password FROM "User"`);
      await db.end();
      expect(rows).toEqual([{ username: "dana", password: null }]);

      const irc = b.soju.downstreamAddress!;
      const firstReply = async () => {
        const socket = net.connect(irc.port, irc.host);
        socket.write("PASS app-pw\r\nNICK dana\r\nUSER dana@laptop 0 * :d\r\n");
        let buffered = "";
        const line = await new Promise<string>((resolve, reject) => {
          socket.on("data", (d: Buffer) => {
            buffered += d.toString();
            const nl = buffered.indexOf("\r\n");
            if (nl !== -1) resolve(buffered.slice(0, nl));
          });
          socket.on("error", reject);
        });
        socket.destroy();
        return line;
      };
      expect(await firstReply()).toBe(":soju.test 001 dana :Welcome to soju, dana");
      status = 403;
      expect(await firstReply()).toBe(":soju.test 464 * :Invalid credentials");
      expect(requests).toEqual([
        { url: "/api/soju/auth/dana-bnc", authorization: `Basic ${btoa("dana:app-pw")}` },
        { url: "/api/soju/auth/dana-bnc", authorization: `Basic ${btoa("dana:app-pw")}` },
      ]);
    } finally {
      await withAuth.stop();
      await new Promise<void>((resolve) => auth.close(() => resolve()));
    }
  });

  it("reports provisioning failures in the Ready condition", async () => {
    const failing = startOperator({
      kube,
      postgresUrl: pgServer.url(),
      namespace: "failing-ns",
      failProvisioning: () => "quota exceeded on the database cluster",
    });
    kube.objects.create("namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "failing-ns" },
    });
    kube.objects.create("sojubouncers.irc.now", {
      apiVersion: "irc.now/v1alpha1",
      kind: "SojuBouncer",
      metadata: { name: "carol", namespace: "failing-ns" },
      spec: { username: "carol", plan: "free" },
    });
    const cr = await until(() => {
      const o = kube.objects.find("sojubouncers.irc.now", "failing-ns", "carol") as
        { status?: { conditions?: { status: string; message: string }[] } } | undefined;
      return o?.status?.conditions?.[0];
    }, "a Ready condition");
    expect(cr).toMatchObject({
      status: "False",
      message: "quota exceeded on the database cluster",
    });
    await failing.stop();
  });
});
