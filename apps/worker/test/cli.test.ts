import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ANNOTATION_UPSTREAM_CONFIGURED } from "@irc-now/k8s";
import { startHarness, until, type Harness } from "./support/harness";

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
  h.createBouncer("hank");
  h.createBouncer("ivy");
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
