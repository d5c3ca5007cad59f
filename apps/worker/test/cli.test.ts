import { accounts } from "@irc-now/db";
import { eq } from "drizzle-orm";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { NS, startHarness, until, type Harness } from "./support/harness";

const root = fileURLToPath(new URL("../../../", import.meta.url));
let h: Harness;

/** `npm run worker -- <args>` from the repo root, with the worker's environment. */
function worker(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "worker", "--", ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        ...h.env,
        LOG_LEVEL: "info",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  h = await startHarness(inject("postgresUrl"));
  await h.createBouncer("hank");
  await h.createBouncer("ivy");
  await until(() => h.readyOf("hank") === "True" && h.readyOf("ivy") === "True", "bouncers Ready");
});
afterAll(async () => {
  await h?.stop();
});

describe("operator CLI (npm run worker -- …)", () => {
  it("setup <name> prints each step and succeeds", async () => {
    const r = await worker(["setup", "hank"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("→ "))).toEqual([
      "→ read_secret",
      "→ wait_for_soju_user",
      "→ choose_password",
      "→ ensure_ergo_account",
      "→ verify_ergo_credentials",
      "→ apply_soju_network",
      "→ annotate",
      "→ verify_upstream_login",
      "→ done",
    ]);
    expect(r.stdout).toMatch(
      /✓ hank: authenticated on irc.now \(attempt 1, password generated, ergo account created\)/,
    );
    expect(h.annotations("hank")[ANNOTATION_UPSTREAM_CONFIGURED]).toBe("true");
  });

  it("verify <name> reports the upstream state and exits by it", async () => {
    const ok = await worker(["verify", "hank"]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout.trim()).toBe("hank: authenticated as hank");
    const notYet = await worker(["verify", "ivy"]);
    expect(notYet.code).toBe(1);
    expect(notYet.stdout).toMatch(/^ivy: (disconnected|unknown)/);
  });

  it("status prints a table of every bouncer", async () => {
    const r = await worker(["status"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+USER\s+READY\s+CONFIGURED\s+UPSTREAM\s+LAST ATTEMPT$/);
    expect(lines.find((l) => l.startsWith("hank"))).toMatch(
      /hank\s+hank\s+yes\s+yes\s+authenticated \(hank\)\s+#1 succeeded at done/,
    );
    expect(lines.find((l) => l.startsWith("ivy"))).toMatch(/ivy\s+ivy\s+yes\s+no\s+/);
  });

  it("status shows the newest attempt, and only this namespace's history", async () => {
    // A second and third attempt for hank (admin retries), and a row of another namespace
    // that happens to carry the same uid: the table shows #3 of this namespace.
    const uid = (await h.w.bouncers.get("hank"))!.metadata.uid!;
    for (const attemptNo of [2, 3])
      await h.w.db.insert(accounts.bouncerSetupAttempts).values({
        namespace: NS,
        bouncer: "hank",
        bouncerUid: uid,
        attemptNo,
        stepReached: attemptNo === 3 ? "apply_soju_network" : "done",
        outcome: attemptNo === 3 ? "failed" : "succeeded",
      });
    await h.w.db.insert(accounts.bouncerSetupAttempts).values({
      namespace: "elsewhere",
      bouncer: "hank",
      bouncerUid: uid,
      attemptNo: 9,
      stepReached: "done",
      outcome: "succeeded",
    });
    const r = await worker(["status"]);
    expect(r.stdout.split("\n").find((l) => l.startsWith("hank"))).toMatch(
      /#3 failed at apply_soju_network$/,
    );
  });

  it("adopt-existing: dry run by default; --apply records the provable accounts, audited", async () => {
    // "jill" was set up before ownership existed: ergo accepts the password her soju stores.
    await h.createBouncer("jill");
    await until(() => h.readyOf("jill") === "True", "jill Ready");
    expect((await worker(["setup", "jill"])).code).toBe(0);
    await h.w.db.delete(accounts.ergoAccounts).where(eq(accounts.ergoAccounts.account, "jill"));
    // "kate" registered on irc.now herself long ago: nothing proves the portal set it.
    await h.ergo.registerAccount("kate", "kates-own-password");
    await h.createBouncer("kate");
    await until(() => h.readyOf("kate") === "True", "kate Ready");

    const dry = await worker(["adopt-existing"]);
    expect(dry.code).toBe(0);
    const row = (account: string) =>
      dry.stdout.split("\n").find((l) => l.startsWith(`${account} `));
    expect(row("jill")).toMatch(/\badopt\b.*ergo accepts the user's credential Secret/);
    expect(row("kate")).toMatch(/\bskip\b.*left for an admin/);
    expect(row("hank")).toMatch(/\bowned\b/);
    expect(dry.stdout).toMatch(/dry run: 1 account\(s\) would be adopted/);
    expect(
      await h.w.db
        .select()
        .from(accounts.ergoAccounts)
        .where(eq(accounts.ergoAccounts.account, "jill")),
    ).toEqual([]);

    const applied = await worker(["adopt-existing", "--apply"]);
    expect(applied.stdout).toMatch(/adopted 1 account\(s\): jill/);
    const [owned] = await h.w.db
      .select()
      .from(accounts.ergoAccounts)
      .where(eq(accounts.ergoAccounts.account, "jill"));
    expect(owned).toMatchObject({ origin: "adopted", adoptedBy: "adopt-existing" });
    const audit = await h.w.db
      .select()
      .from(accounts.adminAuditLog)
      .where(eq(accounts.adminAuditLog.action, "ergo_account.adopt"));
    expect(audit.map((a) => [a.actorUsername, a.details])).toEqual([
      ["adopt-existing", expect.objectContaining({ account: "jill" })],
    ]);
    expect(await h.ergo.checkPassword("kate", "kates-own-password")).toBe(true);
  });

  it("fails clearly on a missing bouncer, a missing name and a bad command", async () => {
    expect(await worker(["setup", "nobody"])).toMatchObject({
      code: 1,
      stderr: 'no SojuBouncer "nobody" in namespace irc-now\n',
    });
    const noName = await worker(["verify"]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("verify needs a bouncer name");
    expect((await worker(["frobnicate"])).code).toBe(2);
  });
});
