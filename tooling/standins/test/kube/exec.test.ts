/** pods/exec over WebSocket through client-node's Exec, on both channel protocols. */
import { Readable, Writable } from "node:stream";
import type { Exec, V1Status } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startKubeStandin, type ExecRequest, type KubeStandin } from "../../src/kube/index";
import { clientsFor, NS } from "./helpers";

interface ExecResult {
  stdout: string;
  stderr: string;
  status: V1Status;
  protocol: string;
}

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

async function runExec(
  exec: Exec,
  pod: string,
  container: string,
  command: string[],
  stdin: Readable | null = null,
): Promise<ExecResult> {
  const out = collector();
  const err = collector();
  let resolveStatus!: (s: V1Status) => void;
  const statusPromise = new Promise<V1Status>((r) => (resolveStatus = r));
  const ws = await exec.exec(
    NS,
    pod,
    container,
    command,
    out.stream,
    err.stream,
    stdin,
    false,
    (s) => resolveStatus(s),
  );
  const status = await statusPromise;
  return { stdout: out.text(), stderr: err.text(), status, protocol: ws.protocol };
}

/** A small "sojuctl": prints its arguments, fails with 3 on `fail`, echoes stdin on `cat`. */
async function fakeSojuctl(req: ExecRequest): Promise<number> {
  const [, ...args] = req.command;
  if (args[0] === "fail") {
    req.stderr.write("error: something went wrong\n");
    return 3;
  }
  if (args[0] === "cat") {
    for await (const chunk of req.stdin) req.stdout.write(chunk);
    return 0;
  }
  req.stdout.write(`${req.container}: ${args.join(" ")}\n`);
  return 0;
}

let kube: KubeStandin;
let api: ReturnType<typeof clientsFor>;

beforeAll(async () => {
  kube = await startKubeStandin();
  api = clientsFor(kube);
  kube.createPod({
    namespace: NS,
    name: "alice-soju-0",
    labels: { "irc.now/bouncer": "alice" },
    containers: ["soju", "sidecar"],
    exec: { soju: fakeSojuctl },
  });
});
afterAll(async () => {
  await kube.stop();
});

describe("exec", () => {
  it("runs a command and returns stdout and a Success status (v5 preferred, like Kubernetes ≥ 1.30)", async () => {
    const result = await runExec(api.exec, "alice-soju-0", "soju", [
      "sojuctl",
      "user",
      "status",
      "alice",
    ]);
    expect(result).toEqual({
      stdout: "soju: user status alice\n",
      stderr: "",
      status: { metadata: {}, status: "Success" },
      protocol: "v5.channel.k8s.io",
    });
  });

  it("reports a non-zero exit code as a kubelet does: NonZeroExitCode with an ExitCode cause", async () => {
    const result = await runExec(api.exec, "alice-soju-0", "soju", ["sojuctl", "fail"]);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("error: something went wrong\n");
    expect(result.status).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });

  it("passes stdin through and signals its end (v5 close frame)", async () => {
    const result = await runExec(
      api.exec,
      "alice-soju-0",
      "soju",
      ["sojuctl", "cat"],
      Readable.from([Buffer.from("line one\n"), Buffer.from("line two\n")]),
    );
    expect(result.stdout).toBe("line one\nline two\n");
    expect(result.status.status).toBe("Success");
  });

  it("fails like a missing binary in a container nobody registered a handler for", async () => {
    const result = await runExec(api.exec, "alice-soju-0", "sidecar", ["sojuctl", "help"]);
    expect(result.status).toMatchObject({ status: "Failure", reason: "InternalError" });
    expect(result.status.message).toContain('exec: "sojuctl": executable file not found in $PATH');
  });

  it("refuses exec into a pod that does not exist, or a container it does not have", async () => {
    await expect(runExec(api.exec, "nobody", "soju", ["true"])).rejects.toThrow(/404/);
    await expect(runExec(api.exec, "alice-soju-0", "nope", ["true"])).rejects.toThrow(/400/);
  });

  it("refuses exec into a pod that is not running", async () => {
    kube.createPod({
      namespace: NS,
      name: "pending-0",
      containers: ["soju"],
      phase: "Pending",
      exec: fakeSojuctl,
    });
    await expect(runExec(api.exec, "pending-0", "soju", ["sojuctl", "x"])).rejects.toThrow(/400/);
  });

  it("drops a deleted pod's handlers and aborts its sessions", async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    kube.createPod({
      namespace: NS,
      name: "doomed-0",
      containers: ["soju"],
      exec: async (req) => {
        started();
        await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
        return 137;
      },
    });
    const session = runExec(api.exec, "doomed-0", "soju", ["sleep", "forever"]).catch(
      (e: unknown) => e,
    );
    await running;
    await vi.waitFor(() => expect(kube.activeExecSessions).toBe(1));
    await api.core.deleteNamespacedPod({ namespace: NS, name: "doomed-0" });
    await vi.waitFor(() => expect(kube.activeExecSessions).toBe(0), { timeout: 10_000 });
    const result = await session;
    expect(result).toMatchObject({
      status: { reason: "NonZeroExitCode", details: { causes: [{ message: "137" }] } },
    });
  });

  it("routes by registered handler and unregisters", async () => {
    kube.createPod({ namespace: NS, name: "routed-0", containers: ["soju"] });
    const unregister = kube.registerExecHandler(
      { namespace: NS, pod: "routed-0", container: "soju" },
      (req) => {
        req.stdout.write(JSON.stringify(req.command));
        return 0;
      },
    );
    expect((await runExec(api.exec, "routed-0", "soju", ["a", "b c"])).stdout).toBe('["a","b c"]');
    unregister();
    expect((await runExec(api.exec, "routed-0", "soju", ["a"])).status.status).toBe("Failure");
  });
});

describe("exec on v4.channel.k8s.io", () => {
  let v4: KubeStandin;
  beforeAll(async () => {
    v4 = await startKubeStandin({ execProtocols: ["v4.channel.k8s.io"] });
    v4.createPod({ namespace: NS, name: "alice-soju-0", containers: ["soju"], exec: fakeSojuctl });
  });
  afterAll(async () => {
    await v4.stop();
  });

  it("negotiates v4 and carries stdout, stderr and the exit status on channels 1-3", async () => {
    const { exec } = clientsFor(v4);
    const ok = await runExec(exec, "alice-soju-0", "soju", ["sojuctl", "network", "status"]);
    expect(ok).toEqual({
      stdout: "soju: network status\n",
      stderr: "",
      status: { metadata: {}, status: "Success" },
      protocol: "v4.channel.k8s.io",
    });
    const failed = await runExec(exec, "alice-soju-0", "soju", ["sojuctl", "fail"]);
    expect(failed.stderr).toBe("error: something went wrong\n");
    expect(failed.status).toMatchObject({
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });
});
