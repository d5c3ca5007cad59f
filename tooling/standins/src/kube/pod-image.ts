/**
 * Exec handlers that behave like a small container image: the exec'd argv runs as a real
 * process, the way a container runtime starts it, with a PATH that holds only
 * - `sh`: the host's POSIX shell (/bin/sh), so `sh -c '<script>' …` runs for real, builtins
 *   (`read`, `set`, `printf`, `exec`, `[`…) and all;
 * - the image's own commands (e.g. `sojuctl`), implemented in-process by the caller: on the PATH
 *   they are a tiny shell shim that hands its argv to the stand-in over an inherited file
 *   descriptor (fd 3) and exits with the status the stand-in sends back. Their stdout and stderr
 *   are the shim's own (opened through /proc/<shim pid>/fd/5 and 6, its copies of 1 and 2), so a script can capture
 *   them (`out=$(sojuctl …)`), redirect them, and interleave its own output in order, as with a
 *   real process; they get no stdin.
 * Anything else is "not found" (exit 127), as in an image that lacks it. An argv that names an
 * image command directly (no shell) runs it in-process without a process at all.
 *
 * Left out: a filesystem of the image (the shell sees the host's, read-only use only), users,
 * concurrent in-process commands started by one script in the background. Where /proc is
 * missing (not Linux) an in-process command writes to the session's streams instead, unordered
 * with the script's own output.
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import type { Socket } from "node:net";
import type { ExecHandler, ExecRequest } from "./exec";

export interface PodCommandIO {
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the exec session ends early (client gone, pod deleted). */
  signal: AbortSignal;
}

/** An in-process command of the image: gets argv (argv[0] as invoked), returns the exit status. */
export type PodCommand = (argv: string[], io: PodCommandIO) => number | Promise<number>;

export interface PodImage {
  /** Commands on the image's PATH besides `sh`, by name (e.g. `{ sojuctl: … }`). */
  commands: Record<string, PodCommand>;
  /** The shell behind `sh` (default `/bin/sh`). */
  shell?: string;
}

const SHIM = `#!/bin/sh
# stand-in pod: an in-process command. Hands "pid, argc, argv0, args" (NUL-terminated) to the
# stand-in on fd 3 and exits with the status it answers; the stand-in writes the command's
# output to this process's own stdout and stderr, opened through fds 5 and 6: \`printf >&3\`
# points fd 1 at the channel until the builtin returns, so the stand-in could read the record
# while fd 1 is still the channel.
exec 5>&1 6>&2
printf '%s\\0' "$$" "$#" "$0" "$@" >&3 || exit 126
IFS= read -r status <&3 || exit 126
exit "$status"
`;

const SYSTEM_DIRS = new Set(["/bin", "/usr/bin", "/usr/local/bin", "/sbin", "/usr/sbin"]);

let root: string | undefined;
const binDirs = new Map<string, string>();

/**
 * Removes the image folders of processes that are gone: a test worker killed by a signal never
 * runs its exit handler. The folder name carries its process id.
 */
function sweepOrphanImages(): void {
  for (const entry of readdirSync(tmpdir())) {
    const pid = /^irc-now-pod-image-(\d+)-/.exec(entry)?.[1];
    if (pid === undefined || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ESRCH")
        rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}

/** A directory holding `sh` and a shim per command name (made once per set of names). */
function binDirFor(names: string[], shell: string): string {
  const key = JSON.stringify([shell, ...names.sort()]);
  const existing = binDirs.get(key);
  if (existing !== undefined) return existing;
  if (root === undefined) {
    sweepOrphanImages();
    const made = mkdtempSync(join(tmpdir(), `irc-now-pod-image-${process.pid}-`));
    root = made;
    process.once("exit", () => rmSync(made, { recursive: true, force: true }));
    writeFileSync(join(made, "shim"), SHIM);
    chmodSync(join(made, "shim"), 0o755);
  }
  const dir = join(root, `bin${binDirs.size}`);
  mkdirSync(dir);
  symlinkSync(shell, join(dir, "sh"));
  for (const name of names) symlinkSync(join(root, "shim"), join(dir, name));
  binDirs.set(key, dir);
  return dir;
}

/** NUL-separated records `pid, argc, argv0, args…` from the shim, one at a time. */
class RecordReader {
  private buffer = Buffer.alloc(0);
  private fields: string[] = [];

  push(chunk: Buffer): string[][] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const records: string[][] = [];
    for (let nul = this.buffer.indexOf(0); nul !== -1; nul = this.buffer.indexOf(0)) {
      this.fields.push(this.buffer.subarray(0, nul).toString("utf8"));
      this.buffer = this.buffer.subarray(nul + 1);
      const argc = Number(this.fields[1]);
      if (this.fields.length === argc + 3) {
        records.push(this.fields);
        this.fields = [];
      }
    }
    return records;
  }
}

/** Exit status of a process that ended by a signal, as a shell reports it. */
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

async function runCommand(
  command: PodCommand,
  argv: string[],
  request: Pick<ExecRequest, "stdout" | "stderr" | "signal">,
): Promise<number> {
  try {
    return await command(argv, {
      stdout: request.stdout,
      stderr: request.stderr,
      signal: request.signal,
    });
  } catch (error) {
    request.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/**
 * The shim process's own stdout and stderr (whatever the script made them: the session's pipe,
 * a `$(…)` capture, a file, /dev/null), opened through /proc for appending; the session's
 * streams where /proc cannot give them (a socket, such as the session's own, answers ENXIO).
 */
async function shimStreams(
  pid: string,
  request: Pick<ExecRequest, "stdout" | "stderr">,
): Promise<{ stdout: Writable; stderr: Writable; close: () => Promise<void> }> {
  const open = (fd: number) =>
    new Promise<Writable | undefined>((resolve) => {
      if (!/^\d+$/.test(pid)) return resolve(undefined);
      const stream = createWriteStream(`/proc/${pid}/fd/${fd}`, { flags: "a" });
      stream.once("open", () => resolve(stream));
      stream.once("error", () => resolve(undefined));
    });
  const [out, err] = await Promise.all([open(5), open(6)]);
  const end = (stream: Writable | undefined) =>
    stream === undefined
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          stream.once("error", () => resolve());
          stream.end(() => resolve());
        });
  return {
    stdout: out ?? request.stdout,
    stderr: err ?? request.stderr,
    close: () => Promise.all([end(out), end(err)]).then(() => undefined),
  };
}

function runShell(
  request: ExecRequest,
  shell: string,
  binDir: string,
  commands: Record<string, PodCommand>,
): Promise<number> {
  return new Promise((resolve) => {
    const [argv0 = "sh", ...args] = request.command;
    const child = spawn(shell, args, {
      argv0,
      cwd: "/",
      // A pod's bare environment. (Cast: Next's types make NODE_ENV a required key of ProcessEnv
      // in any program that includes this file, such as the web app's tests.)
      env: { PATH: binDir, HOME: "/" } as unknown as NodeJS.ProcessEnv,
      stdio: ["pipe", "pipe", "pipe", "pipe"],
    });
    const abort = () => child.kill("SIGKILL");
    request.signal.addEventListener("abort", abort, { once: true });

    child.stdin.on("error", () => undefined); // EPIPE when the process exits before reading all
    request.stdin.pipe(child.stdin);
    child.stdout.on("data", (chunk: Buffer) => request.stdout.write(chunk));
    child.stderr.on("data", (chunk: Buffer) => request.stderr.write(chunk));

    const channel = child.stdio[3] as Socket;
    channel.on("error", () => undefined);
    const records = new RecordReader();
    let queue = Promise.resolve();
    channel.on("data", (chunk: Buffer) => {
      for (const [pid = "", , invoked = "", ...rest] of records.push(chunk)) {
        queue = queue.then(async () => {
          const command = commands[basename(invoked)];
          let code = 127;
          if (command !== undefined) {
            const io = await shimStreams(pid, request);
            code = await runCommand(command, [basename(invoked), ...rest], { ...request, ...io });
            await io.close();
          }
          if (!channel.destroyed) channel.write(`${code}\n`);
        });
      }
    });

    child.on("error", (error) => {
      request.signal.removeEventListener("abort", abort);
      request.stdin.unpipe(child.stdin);
      request.stderr.write(`exec: "${argv0}": ${error.message}\n`);
      resolve(127);
    });
    child.on("close", (code, signal) => {
      request.signal.removeEventListener("abort", abort);
      request.stdin.unpipe(child.stdin);
      void queue.then(() =>
        resolve(code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0))),
      );
    });
  });
}

/** An exec handler for a container of `image` (see the module comment). */
export function podImageExecHandler(image: PodImage): ExecHandler {
  const shell = image.shell ?? "/bin/sh";
  const names = Object.keys(image.commands);
  for (const name of names)
    if (name === "sh" || name === "" || name.includes("/"))
      throw new Error(`not a command name an image can add: ${JSON.stringify(name)}`);
  const binDir = binDirFor(names, shell);
  return async (request) => {
    const argv0 = request.command[0] ?? "";
    const name = argv0.includes("/") && SYSTEM_DIRS.has(dirname(argv0)) ? basename(argv0) : argv0;
    const command = Object.hasOwn(image.commands, name) ? image.commands[name] : undefined;
    if (command !== undefined) return runCommand(command, [...request.command], request);
    if (name === "sh") return runShell(request, shell, binDir, image.commands);
    request.stderr.write(`exec: "${argv0}": executable file not found in $PATH\n`);
    request.stdin.resume(); // nobody reads it
    return 127;
  };
}
