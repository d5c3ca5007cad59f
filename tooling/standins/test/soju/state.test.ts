import { createSojuSchemaForTests } from "@irc-now/db/testing";
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSojuStandin } from "../../src/soju";
import { failed, ok, RawClient, SojuFixture, waitFor } from "./helpers";

const fx = new SojuFixture();
beforeAll(() => fx.setup());
afterAll(() => fx.teardown());

/** Logs in over the downstream listener; returns the first numeric/ERROR line answering it. */
async function downstreamLogin(
  port: number,
  user: string,
  password: string,
): Promise<{ client: RawClient; answer: string }> {
  const client = await RawClient.connect({ host: "127.0.0.1", port });
  fx.onCleanup(async () => client.close());
  client.write(`PASS ${password}\r\nNICK ${user}\r\nUSER ${user} 0 * :${user}\r\n`);
  const answer = await waitFor(async () => {
    const line = await client.readLine();
    if (line === null) return "EOF";
    return / (001|464) /.test(line) || line.startsWith("ERROR") ? line : undefined;
  }, "a login answer");
  return { client, answer };
}

describe("schema at start (facts §2)", () => {
  it("creates the whole v18 schema on an empty database, once", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url });
    expect(await fx.sql(url, `SELECT id, version FROM "Config"`)).toEqual([{ id: 1, version: 18 }]);
    const tables = await fx.sql<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "Channel",
      "Config",
      "DeliveryReceipt",
      "Message",
      "MessageTarget",
      "Network",
      "ReadReceipt",
      "User",
      "WebPushConfig",
      "WebPushSubscription",
    ]);
    expect(await fx.sql(url, `SELECT count(*)::int AS n FROM "WebPushConfig"`)).toEqual([{ n: 1 }]);
    await soju.restart();
    expect(await fx.sql(url, `SELECT count(*)::int AS n FROM "WebPushConfig"`)).toEqual([{ n: 1 }]);
    expect(await fx.sql(url, `SELECT version FROM "Config"`)).toEqual([{ version: 18 }]);
  });

  it("fails like soju when the tables exist without Config (and leaves no Config behind)", async () => {
    const url = await fx.database();
    await createSojuSchemaForTests(url);
    await fx.sql(url, `DROP TABLE "Config"`);
    await expect(
      startSojuStandin({ databaseUrl: url, adminSocketPath: fx.socketPath() }),
    ).rejects.toThrow(
      /^failed to open database: failed to initialize schema: pq: relation "User" already exists$/,
    );
    expect(await fx.sql(url, `SELECT to_regclass('"Config"') IS NULL AS missing`)).toEqual([
      { missing: true },
    ]);
  });

  it("refuses a newer schema", async () => {
    const url = await fx.database();
    await createSojuSchemaForTests(url);
    await fx.sql(url, `UPDATE "Config" SET version = 19`);
    await expect(
      startSojuStandin({ databaseUrl: url, adminSocketPath: fx.socketPath() }),
    ).rejects.toThrow(
      /^failed to open database: soju \(version 18\) older than schema \(version 19\)$/,
    );
  });

  it("starts on a schema that is already at version 18 (e.g. made by createSojuSchemaForTests)", async () => {
    const url = await fx.database();
    await createSojuSchemaForTests(url);
    const soju = await fx.soju({ databaseUrl: url });
    const admin = await fx.admin(soju);
    expect(await admin.command("user status")).toEqual(ok());
  });
});

describe("memory is loaded only at start (facts §3)", () => {
  it("ignores a network row inserted into the DB until restart(), but user status counts it", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url });
    const admin = await fx.admin(soju);
    await admin.command("user create -username alice -password alicepw");
    const [alice] = await fx.sql<{ id: number }>(
      url,
      `SELECT id FROM "User" WHERE username = 'alice'`,
    );
    await fx.sql(
      url,
      `INSERT INTO "Network" ("user", name, addr, enabled) VALUES ($1, 'sneaky', 'irc+insecure://127.0.0.1:1', false)`,
      [alice?.id],
    );
    expect(await admin.command("user run alice network status")).toEqual(
      ok('No network configured, add one with "network create".'),
    );
    expect(await admin.command("user run alice sasl status -network sneaky")).toEqual(
      failed('unknown network "sneaky"'),
    );
    expect(await admin.command("user status alice")).toEqual(ok("alice: 1 networks"));

    await soju.restart();
    const fresh = await fx.admin(soju);
    expect(await fresh.command("user run alice network status")).toEqual(
      ok("sneaky (irc+insecure://127.0.0.1:1) [disabled]"),
    );
  });

  it("ignores a user row inserted into the DB until restart()", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url });
    await fx.sql(url, `INSERT INTO "User" (username, password) VALUES ('carol', $1)`, [
      await bcrypt.hash("carolpw", 4),
    ]);
    const admin = await fx.admin(soju);
    expect(await admin.command("user run carol network status")).toEqual(
      failed('unknown username "carol"'),
    );
    expect(await admin.command("user status")).toEqual(ok());
    await soju.restart();
    const fresh = await fx.admin(soju);
    expect(await fresh.command("user status")).toEqual(ok("carol: 0 networks"));
  });

  it("overwrites its own records from memory: a later sasl set-plain rewrites a row changed in the DB", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url });
    const admin = await fx.admin(soju);
    await admin.command("user create -username olly -password pw");
    await admin.command(
      "user run olly network create -addr irc+insecure://127.0.0.1:1 -name n -enabled false",
    );
    await fx.sql(
      url,
      `UPDATE "Network" SET addr = 'irc+insecure://10.0.0.1:6667', realname = 'direct'`,
    );
    await admin.command("user run olly sasl set-plain -network n olly pw2");
    expect(await fx.sql(url, `SELECT addr, realname FROM "Network"`)).toEqual([
      { addr: "irc+insecure://127.0.0.1:1", realname: null },
    ]);
  });
});

describe("downstream connect/disconnect rewrites the user row (facts §3 pitfall)", () => {
  it("a password written into the DB works for one login, then the in-memory hash comes back", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url, downstream: { port: 0 } });
    const port = soju.downstreamAddress?.port ?? 0;
    const admin = await fx.admin(soju);
    await admin.command("user create -username dora -password original-pw");
    const [{ password: memoryHash } = { password: "" }] = await fx.sql<{ password: string }>(
      url,
      `SELECT password FROM "User" WHERE username = 'dora'`,
    );

    // Written straight into the DB, at a low cost with a $2b$ prefix.
    await fx.sql(url, `UPDATE "User" SET password = $1 WHERE username = 'dora'`, [
      await bcrypt.hash("direct-pw", 5),
    ]);
    const first = await downstreamLogin(port, "dora", "direct-pw");
    expect(first.answer).toBe(":soju.test 001 dora :Welcome to soju, dora");

    // The connect event rewrote the whole row from memory: the old hash is back.
    const row = await waitFor(async () => {
      const [r] = await fx.sql<{ password: string; downstream_interacted_at: Date | null }>(
        url,
        `SELECT password, downstream_interacted_at FROM "User" WHERE username = 'dora'`,
      );
      return r?.password === memoryHash && r.downstream_interacted_at ? r : undefined;
    }, "the user row rewrite");
    expect(row.password).toBe(memoryHash);

    first.client.close();
    expect((await downstreamLogin(port, "dora", "direct-pw")).answer).toBe(
      ":soju.test 464 * :Invalid credentials",
    );
    expect((await downstreamLogin(port, "dora", "original-pw")).answer).toBe(
      ":soju.test 001 dora :Welcome to soju, dora",
    );
  });

  it("user update through the service changes the row for good", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url, downstream: { port: 0 } });
    const port = soju.downstreamAddress?.port ?? 0;
    const admin = await fx.admin(soju);
    await admin.command("user create -username ed -password first-pw");
    expect(await admin.command("user update ed -password second-pw")).toEqual(
      ok('updated user "ed"'),
    );
    const login = await downstreamLogin(port, "ed", "second-pw");
    expect(login.answer).toBe(":soju.test 001 ed :Welcome to soju, ed");
    login.client.close();
    expect((await downstreamLogin(port, "ed", "second-pw")).answer).toBe(
      ":soju.test 001 ed :Welcome to soju, ed",
    );
  });

  it("simulateDownstreamConnect/disconnect rewrite columns changed in the DB", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url });
    const admin = await fx.admin(soju);
    await admin.command("user create -username finn -password pw -nick finnick");
    await fx.sql(
      url,
      `UPDATE "User" SET nick = 'changed', admin = true, max_networks = 7 WHERE username = 'finn'`,
    );
    const session = await soju.simulateDownstreamConnect("finn");
    expect(
      await fx.sql(url, `SELECT nick, admin, max_networks FROM "User" WHERE username = 'finn'`),
    ).toEqual([{ nick: "finnick", admin: false, max_networks: -1 }]);
    await fx.sql(url, `UPDATE "User" SET realname = 'again' WHERE username = 'finn'`);
    await session.disconnect();
    expect(await fx.sql(url, `SELECT realname FROM "User" WHERE username = 'finn'`)).toEqual([
      { realname: null },
    ]);
  });

  it("a user that exists only in the DB cannot log in until restart", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url, downstream: { port: 0 } });
    await fx.sql(url, `INSERT INTO "User" (username, password) VALUES ('gil', $1)`, [
      await bcrypt.hash("gilpw", 10),
    ]);
    const port = soju.downstreamAddress?.port ?? 0;
    expect((await downstreamLogin(port, "gil", "gilpw")).answer).toBe(
      "ERROR :Internal server error",
    );
    await soju.restart();
    const portAfter = soju.downstreamAddress?.port ?? 0;
    expect((await downstreamLogin(portAfter, "gil", "gilpw")).answer).toBe(
      ":soju.test 001 gil :Welcome to soju, gil",
    );
  });

  it("downstream JOIN with a key saves the channel row (facts §7.6) and BouncerServ answers over PRIVMSG", async () => {
    const url = await fx.database();
    const soju = await fx.soju({ databaseUrl: url, downstream: { port: 0 } });
    const port = soju.downstreamAddress?.port ?? 0;
    const admin = await fx.admin(soju);
    await admin.command("user create -username hal -password halpw");
    await admin.command(
      "user run hal network create -addr irc+insecure://127.0.0.1:1 -name irc.now -enabled false",
    );
    const client = await RawClient.connect({ host: "127.0.0.1", port });
    fx.onCleanup(async () => client.close());
    client.write("PASS halpw\r\nNICK hal\r\nUSER hal/irc.now 0 * :hal\r\n");
    await waitFor(
      async () => ((await client.readLine()) ?? "").includes(" 422 ") || undefined,
      "end of welcome",
    );
    client.write("JOIN #portaltest s3cretkey\r\nPRIVMSG BouncerServ :channel status\r\n");
    expect(await client.readLine()).toBe(
      ":BouncerServ!BouncerServ@BouncerServ PRIVMSG hal :#portaltest [disconnected]",
    );
    expect(await fx.sql(url, `SELECT name, key, detached FROM "Channel"`)).toEqual([
      { name: "#portaltest", key: "s3cretkey", detached: false },
    ]);
    expect(await admin.command("user run hal channel status")).toEqual(
      ok("#portaltest/irc.now [disconnected]"),
    );
  });
});
