/**
 * podImageExecHandler: exec'd commands run as real processes in a tiny "image" — the host's
 * POSIX sh plus in-process commands on the PATH — through client-node's Exec, on v5 and v4.
 */
import { PassThrough, type Readable, Writable } from "node:stream";
import type { Exec, V1Status } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  podImageExecHandler,
  startKubeStandin,
  type KubeStandin,
  type PodCommand,
} from "../../src/kube/index";
import { clientsFor, NS } from "./helpers";

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

async function run(
  exec: Exec,
  command: string[],
  stdin: Readable | null = null,
): Promise<{ stdout: string; stderr: string; code: number }> {
  const out = collector();
  const err = collector();
  const status = await new Promise<V1Status>((resolve, reject) => {
    exec
      .exec(NS, "img-0", "soju", command, out.stream, err.stream, stdin, false, resolve)
      .catch(reject);
  });
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode")?.message;
  return {
    stdout: out.text(),
    stderr: err.text(),
    code: status.status === "Success" ? 0 : Number(cause ?? -1),
  };
}

/** stdin that sends `text` and never ends (what the exec adapter does). */
function openStdin(text: string): Readable {
  const stream = new PassThrough();
  stream.write(text);
  return stream;
}

const calls: string[][] = [];
const tool: PodCommand = (argv, io) => {
  calls.push(argv);
  if (argv[1] === "fail") {
    io.stderr.write("tool: failed\n");
    return 3;
  }
  io.stdout.write(`${argv.slice(1).join("|")}\n`);
  return 0;
};

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;
beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
  kube.createPod({
    namespace: NS,
    name: "img-0",
    containers: ["soju"],
    exec: podImageExecHandler({ commands: { tool } }),
  });
});
afterAll(async () => {
  await kube.stop();
});

describe("podImageExecHandler", () => {
  it("runs an image command named directly, in-process, with its argv and exit status", async () => {
    calls.length = 0;
    expect(await run(api.exec, ["tool", "a b", "", "-x"])).toEqual({
      stdout: "a b||-x\n",
      stderr: "",
      code: 0,
    });
    expect(await run(api.exec, ["/usr/local/bin/tool", "fail"])).toEqual({
      stdout: "",
      stderr: "tool: failed\n",
      code: 3,
    });
    expect(calls).toEqual([
      ["tool", "a b", "", "-x"],
      ["/usr/local/bin/tool", "fail"],
    ]);
  });

  it("runs `sh -c` for real: the script reads stdin and execs an image command with the words as argv", async () => {
    calls.length = 0;
    const script =
      'n=$1; set --; i=0; while [ "$i" -lt "$n" ]; do IFS= read -r w || exit 125; set -- "$@" "$w"; i=$((i + 1)); done; exec tool "$@"';
    const words = ["  spaced  ", `q"uo'te`, "back\\slash", "$HOME", "*", "-dash", "", "é"];
    const result = await run(
      api.exec,
      ["sh", "-c", script, "sh", String(words.length)],
      openStdin(words.map((w) => `${w}\n`).join("")),
    );
    expect(result).toEqual({ stdout: `${words.join("|")}\n`, stderr: "", code: 0 });
    expect(calls).toEqual([["tool", ...words]]);
  });

  it("passes the shell's own output and exit status, and an image command's failure, through", async () => {
    expect(await run(api.exec, ["sh", "-c", "echo out; echo err >&2; exit 7"])).toEqual({
      stdout: "out\n",
      stderr: "err\n",
      code: 7,
    });
    expect((await run(api.exec, ["sh", "-c", "tool fail; echo after $?"])).stdout).toBe(
      "after 3\n",
    );
  });

  it("an image command's output is the shim's own: a script captures it, redirects it and interleaves in order", async () => {
    // Fails on the old stand-in: the command wrote straight to the session, so `$(tool …)` was
    // empty and "ok" left the session before "before".
    const script = [
      "echo before",
      'o=$(tool one two); echo "captured[$o]"',
      "tool fail 2>/dev/null; echo status $?",
      'e=$(tool fail 2>&1); echo "err[$e]"',
      "tool three",
      "echo after",
    ].join("; ");
    expect(await run(api.exec, ["sh", "-c", script])).toEqual({
      stdout: "before\ncaptured[one|two]\nstatus 3\nerr[tool: failed]\nthree\nafter\n",
      stderr: "",
      code: 0,
    });
  });

  it("captures an image command's output every time, not only when the stand-in is slower than the shim", async () => {
    // Failed 63 of 400 runs under CPU load before the fix: the stand-in read the shim's record
    // while the shell still pointed the shim's fd 1 at the channel (`printf … >&3`), found a
    // socket there and wrote the capture to the session instead. Called without the Kubernetes
    // wire so that each run is a few milliseconds and the race gets many chances.
    const handler = podImageExecHandler({ commands: { tool } });
    const outputs = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const out = collector();
      const err = collector();
      const code = await handler({
        namespace: NS,
        pod: "img-0",
        container: "soju",
        command: ["sh", "-c", 'o=$(tool one two); echo "captured[$o]"'],
        tty: false,
        stdout: out.stream,
        stderr: err.stream,
        stdin: new PassThrough(),
        signal: new AbortController().signal,
      });
      const seen = `${code} ${JSON.stringify(out.text())} ${JSON.stringify(err.text())}`;
      outputs.set(seen, (outputs.get(seen) ?? 0) + 1);
    }
    expect(Object.fromEntries(outputs)).toEqual({ '0 "captured[one|two]\\n" ""': 150 });
  });

  it("has nothing else on its PATH: other programs are not found", async () => {
    const viaShell = await run(api.exec, ["sh", "-c", "cat /etc/hostname"]);
    expect(viaShell.code).toBe(127);
    expect(viaShell.stderr).toMatch(/cat: not found/);
    expect(await run(api.exec, ["cat", "/etc/hostname"])).toEqual({
      stdout: "",
      stderr: 'exec: "cat": executable file not found in $PATH\n',
      code: 127,
    });
  });

  it("kills the process when the client goes away", async () => {
    const sink = collector();
    const ws = await api.exec.exec(
      NS,
      "img-0",
      "soju",
      ["sh", "-c", "read -r never"],
      sink.stream,
      sink.stream,
      openStdin(""),
      false,
    );
    await vi.waitFor(() => expect(kube.activeExecSessions).toBe(1));
    ws.terminate();
    await vi.waitFor(() => expect(kube.activeExecSessions).toBe(0), { timeout: 5000 });
  });

  it("works on v4.channel.k8s.io (no stdin close frame: the script needs no EOF)", async () => {
    const v4 = await startKubeStandin({ execProtocols: ["v4.channel.k8s.io"] });
    try {
      v4.createPod({
        namespace: NS,
        name: "img-0",
        containers: ["soju"],
        exec: podImageExecHandler({ commands: { tool } }),
      });
      const { exec } = clientsFor(v4);
      expect(
        await run(exec, ["sh", "-c", 'IFS= read -r a; exec tool "$a"'], openStdin("one word\n")),
      ).toEqual({ stdout: "one word\n", stderr: "", code: 0 });
    } finally {
      await v4.stop();
    }
  });
});
