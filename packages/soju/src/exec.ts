/**
 * `sojuctl -config <SOJU_CONFIG_PATH> <words…>` in the bouncer's running pod through the
 * Kubernetes exec API (facts/soju.md §7.7): stdout lines are soju's output, exit 0 is OK, exit 1
 * with a stderr line is a FAIL (or, for a few texts, sojuctl failing to reach soju).
 *
 * The words go to sojuctl as argv, unquoted: sojuctl quotes every word itself with Go's
 * strconv.Quote, which mangles tabs and other non-printable characters, so those are refused.
 */
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import {
  Exec,
  type CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1Status,
} from "@kubernetes/client-node";
import { describeKubeError, findBouncerPods, podSelectorFor } from "@irc-now/k8s";
import type { SojuTransport } from "./admin";
import { silentLogger, type SojuLogger } from "./logger";
import { SojuCommandFailed, SojuUnavailable } from "./port";
import { stripGoLogTimestamp } from "./replies";
import { assertSojuctlSafe } from "./words";

export interface ExecTransportOptions {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  /** `SOJU_POD_SELECTOR`, `{name}` = bouncer. */
  podSelector: string;
  /** `SOJU_CONTAINER`. */
  container: string;
  /** `SOJU_CONFIG_PATH`. */
  configPath: string;
  /** Per command, from the exec request to the exit status (default 60 s). */
  commandTimeoutMs?: number;
  logger?: SojuLogger;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** stderr texts of sojuctl (exit 1) that mean "soju could not be reached", not "soju refused". */
const UNREACHABLE = [
  /failed to connect/i,
  /dial unix/,
  /^read: /,
  /failed to load config/i,
  /no listen unix\+admin directive found in config/,
  /^Server is shutting down$/,
];

/** The exit code in an exec Status: Success → 0; Failure with an `ExitCode` cause → its value. */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

/** stdout of sojuctl → output lines (one per `\n`, the final newline dropped). */
export function stdoutLines(stdout: string): string[] {
  if (stdout === "") return [];
  const lines = stdout.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** sojuctl's stderr (exit 1) → the error text, without a Go log timestamp (sojuctl < v0.9.0). */
export function stderrText(stderr: string): string {
  return stderr
    .split("\n")
    .map((l) => stripGoLogTimestamp(l.replace(/\r$/, "")).trim())
    .filter((l) => l !== "")
    .join("; ");
}

/** An exec result → output lines, or the typed error. */
export function interpretSojuctl(result: ExecResult): string[] {
  if (result.exitCode === 0) return stdoutLines(result.stdout);
  const text = stderrText(result.stderr);
  if (result.exitCode === 1 && text !== "" && !UNREACHABLE.some((p) => p.test(text)))
    throw new SojuCommandFailed(text);
  throw new SojuUnavailable(
    `sojuctl exited with code ${result.exitCode}${text ? `: ${text}` : ""}`,
  );
}

class Collector extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(
    chunk: Buffer | string,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk);
    callback();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

const isLive = (pod: V1Pod) => pod.status?.phase === "Running" && !pod.metadata?.deletionTimestamp;

export class ExecTransport implements SojuTransport {
  private readonly exec: Exec;
  private readonly timeoutMs: number;
  private readonly log: SojuLogger;

  constructor(private readonly options: ExecTransportOptions) {
    this.exec = new Exec(options.kubeConfig);
    this.timeoutMs = options.commandTimeoutMs ?? 60_000;
    this.log = options.logger ?? silentLogger;
  }

  async run(bouncer: string, words: readonly string[]): Promise<string[]> {
    assertSojuctlSafe(words);
    const pod = await this.findPod(bouncer);
    const argv = ["sojuctl", "-config", this.options.configPath, ...words];
    return interpretSojuctl(await this.execute(pod, argv));
  }

  private async findPod(bouncer: string): Promise<string> {
    const { core, namespace, podSelector } = this.options;
    let pods: V1Pod[];
    try {
      pods = await findBouncerPods(core, namespace, podSelector, bouncer);
    } catch (error) {
      throw new SojuUnavailable(
        `could not list the pods of bouncer ${bouncer}: ${describeKubeError(error)}`,
      );
    }
    const pod = pods.find(isLive)?.metadata?.name;
    if (pod === undefined) {
      throw new SojuUnavailable(
        `no running soju pod for bouncer ${bouncer} (namespace ${namespace}, selector ${podSelectorFor(podSelector, bouncer)})`,
      );
    }
    return pod;
  }

  /** One exec session: collects stdout/stderr, waits for the Status (exit code) or the timeout. */
  async execute(pod: string, argv: string[]): Promise<ExecResult> {
    const { namespace, container } = this.options;
    const stdout = new Collector();
    const stderr = new Collector();
    let settle: (status: V1Status | undefined) => void = () => undefined;
    const done = new Promise<V1Status | undefined>((resolve) => (settle = resolve));
    let ws: Awaited<ReturnType<Exec["exec"]>>;
    try {
      ws = await this.exec.exec(
        namespace,
        pod,
        container,
        argv,
        stdout,
        stderr,
        null,
        false,
        (status) => settle(status),
      );
    } catch (error) {
      // Never the request URL: it carries the argv (and so a password) in its query.
      throw new SojuUnavailable(
        `exec into pod ${namespace}/${pod} container ${container} failed: ${describeExecError(error)}`,
      );
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      settle(undefined);
    }, this.timeoutMs);
    ws.on("close", () => settle(undefined));
    ws.on("error", () => settle(undefined));
    const status = await done;
    clearTimeout(timer);
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.terminate();
    if (status === undefined) {
      throw new SojuUnavailable(
        timedOut
          ? `sojuctl in pod ${pod} did not finish within ${this.timeoutMs} ms`
          : `the exec session in pod ${pod} ended without an exit status`,
      );
    }
    if (!stdout.writableEnded) stdout.end();
    if (!stderr.writableEnded) stderr.end();
    await Promise.all([finished(stdout), finished(stderr)]);
    const exitCode = exitCodeOf(status);
    if (exitCode === undefined) {
      this.log.warn({ pod, reason: status.reason }, "soju exec failed without an exit code");
      throw new SojuUnavailable(
        `exec in pod ${pod} failed: ${status.reason ?? "Failure"}${status.message ? `: ${status.message}` : ""}`,
      );
    }
    return { stdout: stdout.text(), stderr: stderr.text(), exitCode };
  }

  async close(): Promise<void> {
    // Nothing is kept open between commands.
  }
}

function describeExecError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (
    typeof error === "object" &&
    error !== null &&
    "message" in error &&
    typeof error.message === "string"
  )
    return error.message;
  return String(error);
}
