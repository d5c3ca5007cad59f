import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { accounts, createAccountsDb } from "@irc-now/db";
import { freePort } from "@irc-now/db/testing";
import { BouncerApi, isConfigured } from "@irc-now/k8s";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Every descendant of `pid` (by walking ps's parent links). */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Alive and not a zombie (pid 1 in a container may never reap orphans). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TMPDIR of the run's own, with /tmp's permissions, so that anything left behind shows. */
function privateTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "irc-now-devtest-"));
  chmodSync(dir, 0o1777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What our code may leave in a TMPDIR (tsx and Next keep caches of their own there). */
const ours = (dir: string) => readdirSync(dir).filter((f) => /^(irc-now-|pg-password-)/.test(f));

interface Dev {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

/**
 * `npm run dev` as a terminal runs it: in a process group of its own (the terminal's foreground
 * group), which Ctrl-C signals as a whole.
 */
function npmRunDev(env: Record<string, string>): Dev {
  const child = spawn("npm", ["run", "dev"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  cleanups.push(async () => {
    // On failure: stop like a developer would (Ctrl-C), then make sure nothing survives.
    if (child.exitCode !== null || child.signalCode !== null) return;
    const tree = descendants(child.pid!);
    process.kill(-child.pid!, "SIGINT");
    await Promise.race([exited, sleep(15_000)]);
    for (const pid of [child.pid!, ...tree]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
  return { child, output: () => output, exited };
}

/** `npm run worker -- <args>` from the repo root, with no configuration in the environment. */
function workerCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "worker", "--", ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The first line an IRC server sends after PASS/NICK/USER. */
function firstIrcReply(port: number, user: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(`PASS ${password}\r\nNICK ${user}\r\nUSER ${user} 0 * :${user}\r\n`),
    );
    let buffered = "";
    socket.on("data", (d: Buffer) => {
      buffered += d.toString();
      const end = buffered.indexOf("\r\n");
      if (end === -1) return;
      socket.destroy();
      resolve(buffered.slice(0, end));
    });
    socket.on("error", reject);
    cleanups.push(() => socket.destroy());
  });
}

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
    cleanups.push(() => new Promise((r) => server.close(r)));
  });
}

describe("npm run dev", () => {
  it("refuses to start on a taken port, naming the service and the variable that moves it", async () => {
    const tmp = privateTmp();
    const [webPort, workerPort, keycloakPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    await holdPort(keycloakPort);
    await holdPort(webPort);
    const envFile = join(tmp, "env.dev");
    const dev = npmRunDev({
      TMPDIR: tmp,
      PORT: String(webPort),
      WORKER_PORT: String(workerPort),
      DEV_KEYCLOAK_PORT: String(keycloakPort),
      DEV_ERGO_PORT: "0",
      DEV_ENV_FILE: envFile,
      NEXT_DIST_DIR: ".next-devtest",
    });
    const started = Date.now();
    await dev.exited;
    expect(dev.child.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    const output = dev.output();
    expect(output).toMatch(
      new RegExp(
        `keycloak\\s+127\\.0\\.0\\.1:${keycloakPort}\\s+→ set DEV_KEYCLOAK_PORT=<port> \\(0 = any free port\\)`,
      ),
    );
    expect(output).toMatch(new RegExp(`web\\s+127\\.0\\.0\\.1:${webPort}\\s+→ set PORT=<port>`));
    expect(output).not.toContain("irc.now is running");
    // Nothing was started, so nothing is left.
    expect(ours(tmp)).toEqual([]);
    expect(existsSync(envFile)).toBe(false);
  });

  it("serves web and worker metrics, the worker CLI finds it, then Ctrl-C stops everything at once and leaves nothing behind", async () => {
    const tmp = privateTmp();
    const webPort = await freePort();
    const workerPort = await freePort();
    const envFile = join(tmp, "env.dev");
    const dev = npmRunDev({
      TMPDIR: tmp,
      PORT: String(webPort),
      WORKER_PORT: String(workerPort),
      // Free ports, so the test never collides with a developer's running `npm run dev`.
      DEV_KEYCLOAK_PORT: "0",
      DEV_ERGO_PORT: "0",
      DEV_OPERATOR_READY_DELAY_MS: "200",
      // Next 16 refuses a second `next dev` in one build dir: keep clear of a developer's own.
      NEXT_DIST_DIR: ".next-devtest",
      // And clear of the developer's .env.dev.
      DEV_ENV_FILE: envFile,
    });
    const deadline = Date.now() + 120_000;
    while (!dev.output().includes("irc.now is running")) {
      if (dev.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`dev did not come up:\n${dev.output()}`);
      await sleep(250);
    }
    const output = dev.output;
    expect(output()).toContain(`http://localhost:${webPort}`);
    expect(output()).toContain(`http://localhost:${workerPort}/metrics`);
    expect(output()).toContain("operator CLI: npm run worker -- status");
    expect(output()).not.toContain("oidc-provider WARNING");
    const dataDir = /embedded PostgreSQL on \S+ \(data in (\S+),/.exec(output())?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir!)).toBe(true);

    const health = await fetch(`http://127.0.0.1:${webPort}/api/healthz`);
    expect(await health.json()).toEqual({ status: "ok", db: true });
    expect((await fetch(`http://127.0.0.1:${webPort}/`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).toContain(
      "nodejs_heap_size_total_bytes",
    );
    expect((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status).toBe(200);
    expect(output()).toMatch(/sign in as alice \/ alice-password/);
    expect(output()).toMatch(/sign in as admin \/ admin-password {2}\(admin\)/);

    // A bouncer created in the stand-in cluster ends up logged in to the ergo stand-in by itself.
    const kubeconfig = /KUBECONFIG=(\S+)\)/.exec(output())?.[1];
    expect(kubeconfig).toBeDefined();
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig!);
    const bouncers = new BouncerApi(KubernetesObjectApi.makeApiClient(kc), "irc-now");
    // Its owner, as signing in to the portal would have recorded them.
    const databaseUrl = /psql (\S+)/.exec(output())?.[1];
    expect(databaseUrl).toBeDefined();
    const db = createAccountsDb(databaseUrl!);
    const [owner] = await db
      .insert(accounts.users)
      .values({ keycloakSubject: "kc-devcheck", username: "devcheck" })
      .returning({ id: accounts.users.id });
    await db.$client.end();
    await bouncers.create({
      name: "devcheck",
      username: "devcheck",
      plan: "free",
      ownerId: owner!.id,
    });
    const setupDeadline = Date.now() + 60_000;
    while (!isConfigured((await bouncers.get("devcheck"))!)) {
      if (Date.now() > setupDeadline) throw new Error(`devcheck was not configured:\n${output()}`);
      await sleep(250);
    }
    // Then the worker proves the login (ergo WHOIS) and says so.
    while (!/"bouncer":"devcheck".*upstream setup done: authenticated on irc.now/.test(output())) {
      if (Date.now() > setupDeadline)
        throw new Error(`devcheck was not authenticated:\n${output()}`);
      await sleep(250);
    }

    // An IRC client's login to the bouncer goes through the web's soju auth endpoint (issue
    // 12): a wrong app password is refused as invalid (403), not as an error (404, unreachable).
    const ircPort = /devcheck is Ready \(IRC clients: 127\.0\.0\.1:(\d+),/.exec(output())?.[1];
    expect(ircPort, output()).toBeDefined();
    expect(output()).toContain(`soju auth http http://127.0.0.1:${webPort}/api/soju/auth/{name}`);
    // `next dev` compiles a route on its first request, which on a loaded machine took longer
    // than soju's 30 s login deadline (soju then says "Authentication failed"): ask the endpoint
    // once directly first, which also checks its answer.
    const direct = await fetch(`http://127.0.0.1:${webPort}/api/soju/auth/devcheck`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from("devcheck:wrong").toString("base64")}` },
      signal: AbortSignal.timeout(120_000),
    });
    expect(direct.status, output()).toBe(403);
    expect(await firstIrcReply(Number(ircPort), "devcheck", "not-an-app-password"), output()).toBe(
      ":soju.test 464 * :Invalid credentials",
    );

    // The operator CLI finds the running stack by itself (no variables given).
    expect(existsSync(envFile)).toBe(true);
    const status = await workerCli(["status"], { DEV_ENV_FILE: envFile });
    expect(status.stderr).toContain("using the `npm run dev` stack's settings");
    expect(status.code).toBe(0);
    const lines = status.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+USER\s+READY\s+CONFIGURED\s+UPSTREAM\s+LAST ATTEMPT$/);
    // (UPSTREAM is the verifier's latest state, which may still be on its way.)
    expect(
      lines.find((l) => l.startsWith("devcheck")),
      status.stdout,
    ).toMatch(/^devcheck\s+devcheck\s+yes\s+yes\s+\S.*\s#\d+ succeeded at done$/);

    // Ctrl-C: the terminal signals the whole foreground process group.
    const tree = descendants(dev.child.pid!);
    expect(tree.length).toBeGreaterThan(3); // postgres, worker, next and their children
    const started = Date.now();
    process.kill(-dev.child.pid!, "SIGINT");
    await dev.exited;
    const gone = () =>
      output().includes("irc.now dev: stopped") && ![dev.child.pid!, ...tree].some(alive);
    while (!gone() && Date.now() - started < 10_000) await sleep(50);
    const took = Date.now() - started;
    expect(output().trimEnd().split("\n").at(-1)).toBe("irc.now dev: stopped");
    expect([dev.child.pid!, ...tree].filter(alive)).toEqual([]);
    expect(took).toBeLessThan(3_000);
    expect(existsSync(dataDir!)).toBe(false);
    expect(ours(tmp)).toEqual([]);
    expect(existsSync(envFile)).toBe(false);
  });
});
