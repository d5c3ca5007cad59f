import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { accounts } from "@irc-now/db";
import { reconcileBouncer } from "../src/bouncers/reconcile";
import { advanceImports } from "../src/import/run";
import { startHarness, until, type Harness } from "./support/harness";

// The IRCCloud import job against the real wiring: the kube/operator/soju stand-ins, a real
// PostgreSQL. Jobs are written as the web's startImport writes them (sealed secrets included).
const KEY = "import-secret-key-for-tests-0123456789";
let h: Harness;
let addr: string;

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"), { env: { IMPORT_SECRET_KEY: KEY } });
  addr = `irc+insecure://127.0.0.1:${h.ergo.ircPort}`;
});
afterAll(async () => {
  await h?.stop();
});

interface NetworkInput {
  name: string;
  nick: string;
  serverPassword?: string;
  nickserv?: { account: string; password: string };
  channels: { name: string; key?: string }[];
  state?: accounts.ImportItem["state"];
}

async function queueJob(username: string, bouncer: string, networks: NetworkInput[]) {
  const userId = await h.userId(username);
  const [job] = await h.w.db
    .insert(accounts.importJobs)
    .values({ userId, state: "queued", bouncer })
    .returning();
  const rows: (typeof accounts.importItems.$inferInsert)[] = [
    { jobId: job!.id, position: 0, kind: "bouncer", state: "done", detail: "Using it." },
    { jobId: job!.id, position: 1, kind: "ready" },
  ];
  let position = 2;
  for (const n of networks) {
    const keys = Object.fromEntries(n.channels.filter((c) => c.key).map((c) => [c.name, c.key!]));
    rows.push({
      jobId: job!.id,
      position: position++,
      kind: "network",
      network: n.name,
      state: n.state ?? "pending",
      spec: { addr, nick: n.nick, username: n.nick, realname: "Imported" },
      sealed: accounts.sealImportSecrets(KEY, job!.id, {
        serverPassword: n.serverPassword,
        nickservAccount: n.nickserv?.account,
        nickservPassword: n.nickserv?.password,
        channelKeys: keys,
      }),
    });
    for (const c of n.channels)
      rows.push({
        jobId: job!.id,
        position: position++,
        kind: "channel",
        network: n.name,
        channel: c.name,
        spec: { archived: false, keyed: c.key !== undefined, warnings: [] },
      });
  }
  await h.w.db.insert(accounts.importItems).values(rows);
  return job!.id;
}

async function jobOf(id: string) {
  const [job] = await h.w.db
    .select()
    .from(accounts.importJobs)
    .where(eq(accounts.importJobs.id, id));
  const items = await h.w.db
    .select()
    .from(accounts.importItems)
    .where(eq(accounts.importItems.jobId, id))
    .orderBy(accounts.importItems.position);
  return { job: job!, items };
}

async function runUntilFinished(id: string) {
  return until(async () => {
    await advanceImports(h.w.importDeps);
    const { job } = await jobOf(id);
    return job.state === "succeeded" || job.state === "failed" ? job : undefined;
  }, `import job ${id} to finish`);
}

const sojuctl = async (name: string, words: string[]) => {
  const soju = h.operator.get(name)!.soju;
  return soju.runSojuctl(["-config", soju.configPath, ...words]);
};
const networksOf = async (bouncer: string, user: string) =>
  (await sojuctl(bouncer, ["user", "run", user, "network", "status"])).stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0])
    .sort();
const channelsOf = async (bouncer: string, user: string) =>
  (await sojuctl(bouncer, ["user", "run", user, "channel", "status"])).stdout
    .split("\n")
    .filter((l) => l.startsWith("#"))
    .map((l) => l.split(" ")[0])
    .sort();

async function tenantNetwork(bouncer: string, name: string) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: h.operator.get(bouncer)!.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      pass: string | null;
      sasl_plain_username: string | null;
      sasl_plain_password: string | null;
      connect_commands: string | null;
    }>(
      `SELECT pass, sasl_plain_username, sasl_plain_password, connect_commands FROM "Network" WHERE name = $1`,
      [name],
    );
    return rows;
  } finally {
    await client.end();
  }
}

const networks: NetworkInput[] = [
  {
    name: "Libera",
    nick: "ann_l",
    nickserv: { account: "ann_l", password: "libera-ns-pass" },
    channels: [{ name: "#python" }, { name: "#rust" }],
  },
  {
    name: "Home",
    nick: "ann_h",
    serverPassword: "home-server-pass",
    channels: [{ name: "#family" }, { name: "#secret", key: "hunter2" }],
  },
];

describe("IRCCloud import job", () => {
  it("waits for the bouncer to be configured, then adds the networks and channels; a second import adds nothing", async () => {
    await h.createBouncer("ann");
    const id = await queueJob("ann", "ann", networks);
    // Not Ready/configured yet: a pass leaves every step pending.
    await advanceImports(h.w.importDeps);
    expect((await jobOf(id)).items.filter((i) => i.state === "pending")).toHaveLength(7);

    await h.operator.provisioned("ann");
    await until(() => h.readyOf("ann") === "True", "ann Ready");
    expect((await reconcileBouncer(h.w.deps, "ann")).result?.outcome).toBe("succeeded");

    const job = await runUntilFinished(id);
    expect(job.state).toBe("succeeded");
    const { items } = await jobOf(id);
    expect(items.map((i) => i.state)).toEqual(Array(8).fill("done"));
    expect(items.every((i) => i.sealed === null)).toBe(true);

    expect(await networksOf("ann", "ann")).toEqual(["Home", "Libera", "irc.now"]);
    expect(await channelsOf("ann", "ann")).toEqual([
      "#family/Home",
      "#python/Libera",
      "#rust/Libera",
    ]);
    const [libera] = await tenantNetwork("ann", "Libera");
    expect(libera).toMatchObject({
      sasl_plain_username: "ann_l",
      sasl_plain_password: "libera-ns-pass",
    });
    const [home] = await tenantNetwork("ann", "Home");
    expect(home!.pass).toBe("home-server-pass");
    expect(home!.connect_commands).toContain("JOIN #secret hunter2");
    expect(items.find((i) => i.channel === "#secret")?.detail).toMatch(/connect command/);

    // The same import again: networks are there (skipped), channels are already there.
    const again = await queueJob("ann", "ann", networks);
    expect((await runUntilFinished(again)).state).toBe("succeeded");
    const second = (await jobOf(again)).items;
    expect(second.filter((i) => i.kind === "network").map((i) => i.state)).toEqual([
      "skipped",
      "skipped",
    ]);
    expect(second.find((i) => i.channel === "#python")?.detail).toBe("Already there.");
    expect(await networksOf("ann", "ann")).toEqual(["Home", "Libera", "irc.now"]);
    expect(await channelsOf("ann", "ann")).toEqual([
      "#family/Home",
      "#python/Libera",
      "#rust/Libera",
    ]);
    expect(await tenantNetwork("ann", "Libera")).toHaveLength(1);
  });

  it("resumes a job cut off after `network create`: the network is finished, not skipped", async () => {
    await h.createBouncer("bea");
    await h.operator.provisioned("bea");
    await until(() => h.readyOf("bea") === "True", "bea Ready");
    expect((await reconcileBouncer(h.w.deps, "bea")).result?.outcome).toBe("succeeded");
    // The previous leader sent `network create -enabled false` and died before sasl set-plain.
    const out = await sojuctl("bea", [
      "user",
      "run",
      "bea",
      "network",
      "create",
      "-addr",
      addr,
      "-name",
      "Libera",
      "-nick",
      "bea_l",
      "-enabled",
      "false",
    ]);
    expect(out.exitCode).toBe(0);
    const id = await queueJob("bea", "bea", [
      {
        ...networks[0]!,
        nick: "bea_l",
        nickserv: { account: "bea_l", password: "ns" },
        state: "applying",
      },
    ]);
    expect((await runUntilFinished(id)).state).toBe("succeeded");
    const { items } = await jobOf(id);
    expect(items.find((i) => i.kind === "network")?.state).toBe("done");
    const [libera] = await tenantNetwork("bea", "Libera");
    expect(libera).toMatchObject({ sasl_plain_username: "bea_l", sasl_plain_password: "ns" });
    expect(await channelsOf("bea", "bea")).toEqual(["#python/Libera", "#rust/Libera"]);
    // No secret of the job reached the worker's log.
    const logs = h.logs.join("");
    for (const secret of ["libera-ns-pass", "home-server-pass", "hunter2"])
      expect(logs).not.toContain(secret);
  });

  it("fails a network soju refuses, and its channels with it, and still finishes the rest", async () => {
    await h.createBouncer("cy");
    await h.operator.provisioned("cy");
    await until(() => h.readyOf("cy") === "True", "cy Ready");
    expect((await reconcileBouncer(h.w.deps, "cy")).result?.outcome).toBe("succeeded");
    const id = await queueJob("cy", "cy", [
      { name: "*", nick: "cy", channels: [{ name: "#lost" }] },
      { name: "Ok", nick: "cy_o", channels: [{ name: "#fine" }] },
    ]);
    expect((await runUntilFinished(id)).state).toBe("succeeded");
    const { items } = await jobOf(id);
    expect(items.map((i) => [i.network, i.channel, i.state])).toEqual([
      [null, null, "done"],
      [null, null, "done"],
      ["*", null, "failed"],
      ["*", "#lost", "failed"],
      ["Ok", null, "done"],
      ["Ok", "#fine", "done"],
    ]);
    expect(items[2]!.detail).toMatch(/^Not added: soju said: .*reserved/);
  });

  it("ends a job whose soju stays unreachable with words for the user, instead of retrying for ever", async () => {
    await h.createBouncer("dee");
    await h.operator.provisioned("dee");
    await until(() => h.readyOf("dee") === "True", "dee Ready");
    expect((await reconcileBouncer(h.w.deps, "dee")).result?.outcome).toBe("succeeded");
    await h.operator.get("dee")!.soju.stop();
    const id = await queueJob("dee", "dee", [networks[1]!]);
    const deps = { ...h.w.importDeps, settings: { readyTimeoutMs: 60_000, jobTimeoutMs: 0 } };
    await until(async () => {
      await advanceImports(deps);
      return (await jobOf(id)).job.state === "failed" || undefined;
    }, "the job to fail");
    const { job, items } = await jobOf(id);
    expect(job.error).toMatch(/^Your bouncer dee could not be reached for 0 minutes/);
    expect(
      items.filter((i) => i.kind !== "bouncer" && i.kind !== "ready").map((i) => i.state),
    ).toEqual(Array(3).fill("failed"));
    expect(items.every((i) => i.sealed === null)).toBe(true);
  });
});
