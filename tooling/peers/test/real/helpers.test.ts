import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ergoProbe } from "../../src/ergo";
import { IrcLineClient } from "../../src/irc";
import { startSoju, type RealSoju } from "../../src/soju";

/** The helpers against the real programs (the run's ergo, kube and PostgreSQL; sojus per test). */

const peers = inject("peers");
const sojus: RealSoju[] = [];
afterAll(async () => {
  await Promise.allSettled(sojus.map((s) => s.stop()));
});

function status(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe.skipIf(!peers)("real peers helpers", () => {
  it("ergo: SAREGISTER, NS INFO, SASL check and WHOIS through the probe", async () => {
    const ergo = ergoProbe(peers!.ergo!);
    await ergo.registerAccount("helperacct", "helper-pw-1");
    await expect(ergo.registerAccount("helperacct", "x-pw-2")).rejects.toThrow(
      /Name reserved due to a prior registration/,
    );
    expect(await ergo.accountExists("HELPERACCT")).toBe(true);
    expect(await ergo.accountExists("nosuchhelper")).toBe(false);
    expect(await ergo.checkPassword("helperacct", "helper-pw-1")).toBe(true);
    expect(await ergo.checkPassword("helperacct", "wrong")).toBe(false);

    const client = await IrcLineClient.connect(peers!.ergo!.host, peers!.ergo!.port);
    client.send("CAP REQ :sasl");
    client.send("AUTHENTICATE PLAIN");
    await client.waitFor((l) => l.command === "AUTHENTICATE", "AUTHENTICATE +");
    client.send(`AUTHENTICATE ${Buffer.from("\0helperacct\0helper-pw-1").toString("base64")}`);
    client.send("CAP END");
    await client.register("whatever");
    try {
      expect(await ergo.whoisAccount("helperacct")).toBe("helperacct");
      const lines = await ergo.whois("helperacct");
      expect(lines.map((l) => l.command)).toContain("330");
    } finally {
      await client.close();
    }
    expect(await ergo.whoisAccount("helperacct")).toBeNull();
  });

  it("soju: one per call, with its own state dir, database and port; sojuctl; restart keeps users", async () => {
    const a = await startSoju({ postgresUrl: peers!.postgresUrl! });
    const b = await startSoju({ postgresUrl: peers!.postgresUrl! });
    sojus.push(a, b);
    expect(a.stateDir).not.toBe(b.stateDir);
    expect(a.databaseUrl).not.toBe(b.databaseUrl);
    expect(a.port).not.toBe(b.port);
    expect(a.adminSocketPath).toBe(join(a.stateDir, "admin.sock"));

    expect(await a.bouncerServ("user", "create", "-username", "hank", "-password", "pw")).toEqual([
      'created user "hank"',
    ]);
    const dup = await a.sojuctl("user", "create", "-username", "hank", "-password", "pw");
    expect(dup.exitCode).toBe(1);
    expect(dup.stderr).toContain('user "hank" already exists');
    expect(await b.bouncerServ("user", "status")).toEqual([]);

    const pid = a.pid;
    await a.restart();
    expect(a.restarts).toBe(1);
    expect(a.pid).not.toBe(pid);
    expect(await a.bouncerServ("user", "status", "hank")).toEqual(["hank: 0 networks"]);
  });

  it("kube: the admin token is ready, the limited one is refused", async () => {
    const kube = peers!.kube!;
    const ca = readFileSync(kube.caFile, "utf8");
    expect(await status(`${kube.apiUrl}/readyz`, ca, kube.adminToken)).toBe(200);
    expect(await status(`${kube.apiUrl}/api/v1/namespaces`, ca, kube.limitedToken)).toBe(403);
    expect(readFileSync(kube.kubeconfigPath, "utf8")).toContain(kube.apiUrl);
  });
});
