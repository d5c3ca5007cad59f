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
  SEQUENCE_END,
  interpretSequence,
  sojuctlBatch,
  sojuctlSequenceArgv,
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
/** `network create` of a disabled network `name` pointing nowhere. */
const createDisabled = (user: string, name = "irc.now") =>
  run(
    user,
    "network",
    "create",
    "-addr",
    "irc+insecure://127.0.0.1:1",
    "-name",
    name,
    "-enabled",
    "false",
  );

/**
 * The script in the host's `sh` as an exec session runs it, stdin kept open: `batch` writes a
 * batch and waits until both streams reported command `last` (indexes count on across batches).
 */
function scriptSession(marker: string) {
  const command = sojuctlSequenceArgv(soju.sojuctlConfigPath, marker);
  const child = spawn("/bin/sh", command.slice(1), {
    env: { PATH: bin, HOME: "/" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let wake: () => void = () => undefined;
  child.stdout.on("data", (c: Buffer) => ((stdout += c.toString("utf8")), wake()));
  child.stderr.on("data", (c: Buffer) => ((stderr += c.toString("utf8")), wake()));
  const closed = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return {
    async batch(commands: string[][], last: number) {
      child.stdin.write(sojuctlBatch(commands));
      const done = () =>
        stdout.includes(`${marker} ${last} `) && stderr.includes(`${marker} ${last} `);
      await new Promise<void>((resolve) => {
        wake = () => done() && resolve();
        wake();
      });
      return { stdout, stderr, exitCode: 0 };
    },
    write: (text: string) => child.stdin.write(text),
    /** Closes stdin: the script sees it cut off. */
    cut: () => child.stdin.end(),
    /** The exit status, and all output. */
    ended: async () => {
      const exitCode = await closed;
      return { stdout, stderr, exitCode };
    },
  };
}

/**
 * The script with its last commands held back, as `applyUpstreamNetwork`'s `enableAfter` runs
 * it: the first batch is written, its markers awaited (stdin stays open), and then `then`
 * decides: the second batch and the end, or stdin closed with nothing more (a session ended).
 */
async function runHeld(
  first: string[][],
  rest: string[][],
  then: "send" | "cut",
  whileHeld: () => Promise<void>,
): Promise<SequenceResult & { exitCode: number }> {
  const marker = "0123456789abcdef01234567";
  const session = scriptSession(marker);
  await session.batch(first, first.length - 1);
  await whileHeld();
  if (then === "send") session.write(sojuctlBatch(rest) + SEQUENCE_END);
  else session.cut();
  const result = await session.ended();
  return {
    ...interpretSequence(result, marker, first.length + rest.length),
    exitCode: result.exitCode,
  };
}

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
      createDisabled("seqfail"),
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
    const create = createDisabled("seqdup", "n");
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

  it("a held last command runs only when its batch comes, on the same session; cut off, it never runs", async () => {
    const create = (user: string) => createDisabled(user);
    const setPlain = (user: string) =>
      run(user, "sasl", "set-plain", "-network", "irc.now", "--", user, `${user} pw`);
    const enable = (user: string) => run(user, "network", "update", "irc.now", "-enabled", "true");
    const networks = (user: string) => soju.bouncerServ("user", "run", user, "network", "status");

    await soju.bouncerServ("user", "create", "-username", "heldok", "-disable-password");
    const sent = await runHeld(
      [create("heldok"), setPlain("heldok")],
      [enable("heldok")],
      "send",
      async () => {
        // Written and disabled while the enable is held.
        expect(await networks("heldok")).toEqual([
          "irc.now (irc+insecure://127.0.0.1:1) [disabled]",
        ]);
      },
    );
    expect(sent).toEqual({
      outputs: [
        ['created network "irc.now"'],
        ["credentials saved"],
        ['updated network "irc.now"'],
      ],
      exitCode: 0,
    });
    expect((await networks("heldok")).join("\n")).not.toContain("[disabled]");

    await soju.bouncerServ("user", "create", "-username", "heldcut", "-disable-password");
    const cut = await runHeld(
      [create("heldcut"), setPlain("heldcut")],
      [enable("heldcut")],
      "cut",
      async () => {},
    );
    expect(cut.outputs).toEqual([['created network "irc.now"'], ["credentials saved"]]);
    expect(cut.exitCode).toBe(125);
    expect(cut.failure?.index).toBe(2);
    expect(await networks("heldcut")).toEqual(["irc.now (irc+insecure://127.0.0.1:1) [disabled]"]);
  });

  it("a session kept after its batch runs the next batch's commands, numbered on, and ends 0 at the end batch", async () => {
    // The exec adapter keeps a session whose commands all succeeded for the next command on
    // that bouncer (step 6's `sasl status`): a later one-command batch on the same script.
    await soju.bouncerServ("user", "create", "-username", "kept", "-disable-password");
    const marker = "76543210fedcba9876543210";
    const session = scriptSession(marker);
    const first = await session.batch(
      [
        createDisabled("kept"),
        run("kept", "sasl", "set-plain", "-network", "irc.now", "--", "kept", "kept pw"),
      ],
      1,
    );
    expect(interpretSequence(first, marker, 2)).toEqual({
      outputs: [['created network "irc.now"'], ["credentials saved"]],
    });
    const status = await session.batch([run("kept", "sasl", "status", "-network", "irc.now")], 2);
    const result = interpretSequence(status, marker, 1, 2);
    expect(result.failure).toBeUndefined();
    expect(result.outputs[0]?.[0]).toBe('SASL PLAIN enabled with username "kept"');
    session.write(SEQUENCE_END);
    expect((await session.ended()).exitCode).toBe(0);
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
