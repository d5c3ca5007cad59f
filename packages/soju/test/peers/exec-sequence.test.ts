/**
 * The exec adapter's one-round-trip script (SOJUCTL_SEQUENCE_SCRIPT) against the REAL sojuctl and
 * soju 0.10.1 of the peers kit (`npm run test:peers`). A kube-apiserver without kubelet cannot run
 * pods/exec, so the script runs where a container would run it: a POSIX `sh` (the host's) whose
 * PATH holds only `sojuctl`, with the words on stdin. The exec session around it is tested on the
 * kube stand-in (contract.test.ts, exec.test.ts).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { peersKitDir, startSoju, type RealSoju } from "@irc-now/peers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  SojuCommandFailed,
  SojuInvalidArgument,
  interpretSequence,
  sojuctlSequenceExec,
  type SequenceResult,
} from "../../src/index";

const peers = inject("peers");
if (!peers?.postgresUrl) throw new Error("needs the peers globalSetup with postgres");

let soju: RealSoju;
let bin: string;

beforeAll(async () => {
  soju = await startSoju({ postgresUrl: peers.postgresUrl! });
  bin = await mkdtemp(join(peers.stateRoot, "bin-"));
  await symlink(join(peersKitDir(), "bin", "sojuctl"), join(bin, "sojuctl"));
});
afterAll(async () => {
  await soju?.stop();
  if (bin) await rm(bin, { recursive: true, force: true });
});

/** Runs the script like a container's `sh -c`, the words on stdin; the adapter's parsing after. */
function runScript(commands: string[][]): Promise<SequenceResult & { sessions: 1 }> {
  const { command, stdin, marker } = sojuctlSequenceExec(soju.sojuctlConfigPath, commands);
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", command.slice(1), {
      env: { PATH: bin, HOME: "/" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        ...interpretSequence({ stdout, stderr, exitCode: code ?? -1 }, marker, commands.length),
        sessions: 1,
      }),
    );
    // Never closed by the adapter (client-node v4); here stdin may stay open too.
    child.stdin.write(stdin);
  });
}

const run = (user: string, ...words: string[]) => ["user", "run", user, ...words];

describe("SOJUCTL_SEQUENCE_SCRIPT on real sojuctl + soju 0.10.1", () => {
  it("runs create (disabled) → sasl set-plain → enable in order, with every value intact", async () => {
    await soju.bouncerServ("user", "create", "-username", "seqok", "-disable-password");
    const password = `pw with "quotes", \\backslash, 'single', $(id) \`id\` * ; é`;
    const result = await runScript([
      run(
        "seqok",
        "network",
        "create",
        "-addr",
        "irc+insecure://127.0.0.1:1",
        "-name",
        "irc.now",
        "-realname",
        "-a 'b' \"c\" \\d",
        "-enabled",
        "false",
      ),
      run("seqok", "sasl", "set-plain", "-network", "irc.now", "--", "-seqok", password),
      run("seqok", "network", "update", "irc.now", "-enabled", "true"),
    ]);
    expect(result).toEqual({
      outputs: [
        ['created network "irc.now"'],
        ["credentials saved"],
        ['updated network "irc.now"'],
      ],
      sessions: 1,
    });
    const status = await soju.bouncerServ(
      "user",
      "run",
      "seqok",
      "sasl",
      "status",
      "-network",
      "irc.now",
    );
    expect(status[0]).toBe('SASL PLAIN enabled with username "-seqok"');
    const networks = await soju.bouncerServ("user", "run", "seqok", "network", "status");
    expect(networks.join("\n")).not.toContain("[disabled]");
  });

  it("stops at a failing second command: soju's words, the command's index, the network left disabled", async () => {
    await soju.bouncerServ("user", "create", "-username", "seqfail", "-disable-password");
    const result = await runScript([
      run(
        "seqfail",
        "network",
        "create",
        "-addr",
        "irc+insecure://127.0.0.1:1",
        "-name",
        "irc.now",
        "-enabled",
        "false",
      ),
      run("seqfail", "sasl", "set-plain", "-network", "irc.now", "--", "seqfail", "x".repeat(300)),
      run("seqfail", "network", "update", "irc.now", "-enabled", "true"),
    ]);
    expect(result.outputs).toEqual([['created network "irc.now"']]);
    expect(result.failure?.index).toBe(1);
    expect(result.failure?.error).toBeInstanceOf(SojuCommandFailed);
    expect((result.failure?.error as SojuCommandFailed).reply).toMatch(/too long|varying\(255\)/);
    const networks = await soju.bouncerServ("user", "run", "seqfail", "network", "status");
    expect(networks).toEqual(["irc.now (irc+insecure://127.0.0.1:1) [disabled]"]);
  });

  it("a first command that fails runs nothing after it (soju's 'already exists')", async () => {
    await soju.bouncerServ("user", "create", "-username", "seqdup", "-disable-password");
    const create = run(
      "seqdup",
      "network",
      "create",
      "-addr",
      "irc+insecure://127.0.0.1:1",
      "-name",
      "n",
      "-enabled",
      "false",
    );
    await runScript([create]);
    const result = await runScript([
      create,
      run("seqdup", "network", "update", "n", "-enabled", "true"),
    ]);
    expect(result.outputs).toEqual([]);
    expect((result.failure?.error as SojuCommandFailed).reply).toBe(
      'could not create network: a network with the name "n" already exists',
    );
    expect(await soju.bouncerServ("user", "run", "seqdup", "network", "status")).toEqual([
      "n (irc+insecure://127.0.0.1:1) [disabled]",
    ]);
  });

  it("refuses CR, LF, NUL and tabs before running anything", () => {
    for (const bad of ["\r", "\n", "\0", "\t"])
      expect(() =>
        sojuctlSequenceExec(soju.sojuctlConfigPath, [
          run("u", "network", "status"),
          run("u", "sasl", "set-plain", "-network", "n", "--", "u", `p${bad}w`),
        ]),
      ).toThrow(SojuInvalidArgument);
  });
});
