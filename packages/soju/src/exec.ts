/**
 * `sojuctl -config <SOJU_CONFIG_PATH> <words…>` in the bouncer's running pod through the
 * Kubernetes exec API (facts/soju.md §7.7): stdout lines are soju's output, exit 0 is OK, exit 1
 * with a stderr line is a FAIL (or, for a few texts, sojuctl failing to reach soju).
 *
 * The words never go into the exec request: its argv travels as `command=` query parameters of
 * the pods/exec URL, which the apiserver's audit log, proxies and the kubelet's logs record, and
 * a word may be a password. The request runs a fixed POSIX shell script instead
 * (`sh -c <SOJUCTL_STDIN_SCRIPT> sojuctl <config path> <word count>`) and the words go over the
 * exec session's stdin, one per line (words.ts refuses CR, LF and NUL, so a line is a word).
 * The script reads exactly <word count> lines into "$@" and `exec`s sojuctl with them as argv —
 * the same argv as before, never through a shell's word splitting or globbing. It needs no EOF
 * on stdin (client-node's v4 protocol cannot send one without closing the session), and a stdin
 * cut short ends with exit 125 instead of running a truncated command.
 * **Requirement on the soju image: a POSIX `sh` on the PATH** besides `sojuctl` (busybox `sh` on
 * Alpine, dash on Debian… — not verified here for any particular soju image; a scratch or
 * distroless image has no shell and cannot use this adapter: use `socket` or `sql-restart`).
 *
 * sojuctl quotes every word itself with Go's strconv.Quote, which mangles tabs and other
 * non-printable characters, so those are refused.
 *
 * Deadlines: opening the exec WebSocket is bounded by `openTimeoutMs` (default 15 s) and the
 * whole command, from the request to the exit status, by `commandTimeoutMs` (default 60 s). On
 * either, the pending connection or the open socket is torn down (never left to hang).
 */
import { randomBytes } from "node:crypto";
import type { Agent } from "node:http";
import { PassThrough, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import {
  Exec,
  KubeConfig,
  type Cluster,
  type CoreV1Api,
  type V1Pod,
  type V1Status,
} from "@kubernetes/client-node";
import { describeKubeError, findBouncerPods, podSelectorFor } from "@irc-now/k8s";
import type { SequenceHold, SequenceResult, SojuTransport } from "./admin";
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
  /** From the exec request to the open WebSocket (default 15 s; never longer than the command's). */
  openTimeoutMs?: number;
  logger?: SojuLogger;
}

/**
 * Runs in the pod's `sh` as `sh -c <this> sojuctl <config path> <word count>`: reads exactly
 * <word count> lines from stdin into "$@" (each line one word, kept byte for byte: `IFS=` and
 * `read -r`), then replaces itself with `sojuctl -config <config path> <words…>`. Exit 125 when
 * stdin ends early or the count is not a number, so a cut-off stdin never runs a shorter command.
 * POSIX sh only (no `local`, no arrays, no `read -d`).
 */
export const SOJUCTL_STDIN_SCRIPT = [
  "c=$1 n=$2",
  'case $n in ""|*[!0-9]*) echo "irc-now exec: bad word count" >&2; exit 125;; esac',
  "set --",
  "i=0",
  'while [ "$i" -lt "$n" ]; do IFS= read -r w || { echo "irc-now exec: stdin ended after $i of $n words" >&2; exit 125; }; set -- "$@" "$w"; i=$((i + 1)); done',
  'exec sojuctl -config "$c" "$@"',
].join("; ");

/** The exec request's argv (no secrets in it) and stdin (the words) for one sojuctl command. */
export function sojuctlExec(
  configPath: string,
  words: readonly string[],
): { command: string[]; stdin: string } {
  assertSojuctlSafe(words);
  return {
    command: ["sh", "-c", SOJUCTL_STDIN_SCRIPT, "sojuctl", configPath, String(words.length)],
    stdin: words.map((word) => `${word}\n`).join(""),
  };
}

/**
 * Several sojuctl commands in one exec session (`runSequence`): runs in the pod's `sh` as
 * `sh -c <this> sojuctl <config path> <marker>`. stdin holds batches: a batch is its command
 * count on a line, then per command its word count on a line and its words, one per line; a
 * count of 0 ends the session (exit 0). The script reads a WHOLE batch before running any of it
 * (exit 125 when stdin ends early or a count is not a number: nothing of that batch runs), then
 * runs its commands in order; after each it prints `<marker> <index> <exit status>` on stdout and
 * on stderr (indexes count on across batches, so each command's output and error text can be
 * told apart), and at the first command that did not exit 0 it ends the session, so no later
 * command — of this batch or of any batch sent after — runs after an earlier one failed. A
 * second batch is how a caller holds the last command back (enabling the network waits for
 * ergo's proof) without a second round trip. The words are kept in variables whose names hold
 * only digits and `x` (`w<i>x<j>`) and are rebuilt into "$@" without ever being parsed by the
 * shell (eval only ever sees those names). The marker is random per session: soju's output
 * cannot fake one. One exec round trip instead of one per command (~30 ms each on the bench).
 */
export const SOJUCTL_SEQUENCE_SCRIPT = String.raw`c=$1 k=$2
i=0
while :; do
  IFS= read -r n || { echo "irc-now exec: stdin ended before command $((i + 1))" >&2; exit 125; }
  case $n in ""|*[!0-9]*) echo "irc-now exec: bad command count" >&2; exit 125;; esac
  [ "$n" -eq 0 ] && exit 0
  e=$((i + n))
  j=$i
  while [ "$j" -lt "$e" ]; do
    IFS= read -r m || { echo "irc-now exec: stdin ended before command $((j + 1))" >&2; exit 125; }
    case $m in ""|*[!0-9]*) echo "irc-now exec: bad word count" >&2; exit 125;; esac
    eval "m$j=\$m"
    x=0
    while [ "$x" -lt "$m" ]; do
      IFS= read -r w || { echo "irc-now exec: stdin ended inside command $((j + 1))" >&2; exit 125; }
      eval "w$j"x"$x=\$w"
      x=$((x + 1))
    done
    j=$((j + 1))
  done
  while [ "$i" -lt "$e" ]; do
    eval "m=\$m$i"
    set --
    x=0
    while [ "$x" -lt "$m" ]; do eval "set -- \"\$@\" \"\$w$i"x"$x\""; x=$((x + 1)); done
    sojuctl -config "$c" "$@"
    s=$?
    printf '%s %s %s\n' "$k" "$i" "$s"
    printf '%s %s %s\n' "$k" "$i" "$s" >&2
    [ "$s" -eq 0 ] || exit 0
    i=$((i + 1))
  done
done`;

/** The exec request's argv of a command sequence (no words, so no secrets in it). */
export function sojuctlSequenceArgv(configPath: string, marker: string): string[] {
  return ["sh", "-c", SOJUCTL_SEQUENCE_SCRIPT, "sojuctl", configPath, marker];
}

/** One batch of the sequence script's stdin (validated words). */
export function sojuctlBatch(commands: ReadonlyArray<readonly string[]>): string {
  for (const words of commands) assertSojuctlSafe(words);
  return `${commands.length}\n${commands
    .map((words) => `${words.length}\n${words.map((word) => `${word}\n`).join("")}`)
    .join("")}`;
}

/** The batch that ends a sequence session. */
export const SEQUENCE_END = "0\n";

/** How long a session opened ahead by `prepareSequence` waits for its stdin (then it is ended). */
export const PREPARED_TTL_MS = 10_000;

/**
 * How long a sequence session stays open after its commands for the next command on the same
 * bouncer (then it is ended with SEQUENCE_END). A setup's step 6 asks `sasl status` within
 * milliseconds of the soju step, then every ≤ 500 ms: those ride on the session already open
 * instead of a pod lookup and an exec each.
 */
export const KEPT_IDLE_MS = 1_000;

/** A session is kept only while this much of its command deadline is left for the next one. */
export const KEPT_MIN_REMAINING_MS = 15_000;

/** An exec session waiting for its stdin (ExecTransport.open). */
interface ExecSession {
  /** The session ended (deadline, connection lost) before `finish`. */
  readonly closed: boolean;
  /** When its command deadline ends it (epoch ms). */
  readonly deadline: number;
  /**
   * Sends `input` on stdin (never ending it) and resolves once `ready` holds for the output so
   * far, or the session ended; the session stays open for more input.
   */
  send(input: string, ready: (stdout: string, stderr: string) => boolean): Promise<void>;
  /** The output so far. */
  output(): { stdout: string; stderr: string };
  /** Sends `input` on stdin (never ending it) and waits for the exit status; then it is gone. */
  finish(input: string | undefined): Promise<ExecResult>;
  /** Ends it with nothing sent: the script sees a cut-off stdin and runs nothing. */
  abandon(): void;
}

/**
 * The exec request's argv (no secrets in it) and stdin (the words) for a command sequence: all
 * of `commands` as one batch, then the end.
 */
export function sojuctlSequenceExec(
  configPath: string,
  commands: ReadonlyArray<readonly string[]>,
  marker: string = randomBytes(12).toString("hex"),
): { command: string[]; stdin: string; marker: string } {
  return {
    command: sojuctlSequenceArgv(configPath, marker),
    stdin: sojuctlBatch(commands) + SEQUENCE_END,
    marker,
  };
}

/** A sequence session ready for a batch: its marker, and the index its next command gets. */
interface OpenSequence {
  session: ExecSession;
  marker: string;
  next: number;
}

/** Ends a session gracefully (the script exits 0 at the end batch); its result is not needed. */
function endSession(session: ExecSession): void {
  if (session.closed) session.abandon();
  else session.finish(SEQUENCE_END).catch(() => undefined);
}

/** A stream of the sequence script cut at its markers: each command's text and exit status. */
function splitAtMarkers(
  text: string,
  marker: string,
): { byIndex: Map<number, { text: string; status: number }>; rest: string } {
  const byIndex = new Map<number, { text: string; status: number }>();
  const pattern = new RegExp(`${marker} (\\d+) (\\d+)\n`, "g");
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    byIndex.set(Number(m[1]), { text: text.slice(last, m.index), status: Number(m[2]) });
    last = m.index + m[0].length;
  }
  return { byIndex, rest: text.slice(last) };
}

/** The highest command index reported so far in one stream, and whether one failed. */
function reportedThrough(text: string, marker: string): { through: number; failed: boolean } {
  let through = -1;
  let failed = false;
  for (const [index, status] of splitAtMarkers(text, marker).byIndex) {
    through = Math.max(through, index);
    if (status.status !== 0) failed = true;
  }
  return { through, failed };
}

/** The sequence script's result → per-command outputs, stopping at the first failure. */
export function interpretSequence(
  result: ExecResult,
  marker: string,
  count: number,
  /** The script's index of the first command (a session kept for more counts on). */
  first = 0,
): SequenceResult {
  const out = splitAtMarkers(result.stdout, marker);
  const err = splitAtMarkers(result.stderr, marker);
  const outputs: string[][] = [];
  for (let index = 0; index < count; index++) {
    const done = out.byIndex.get(first + index);
    if (done === undefined) {
      const text = stderrText(err.rest);
      const error = new SojuUnavailable(
        `the exec session ended (exit ${result.exitCode}) before command ${index + 1} of ${count} reported${text ? `: ${text}` : ""}`,
      );
      return { outputs, failure: { index, error } };
    }
    try {
      outputs.push(
        interpretSojuctl({
          stdout: done.text,
          stderr: err.byIndex.get(first + index)?.text ?? "",
          exitCode: done.status,
        }),
      );
    } catch (error) {
      const typed = error instanceof Error ? error : new SojuUnavailable(String(error));
      return { outputs, failure: { index, error: typed } };
    }
  }
  return { outputs };
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

  constructor(private readonly onWrite: () => void = () => undefined) {
    super();
  }

  override _write(
    chunk: Buffer | string,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.chunks.push(typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk);
    callback();
    this.onWrite();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

const isLive = (pod: V1Pod) => pod.status?.phase === "Running" && !pod.metadata?.deletionTimestamp;

type CreateAgent = (cluster: Cluster | null, agentOptions: Record<string, unknown>) => Agent;

/**
 * The KubeConfig as one exec session sees it: the same cluster, user and TLS material, but the
 * HTTP agent for its WebSocket upgrade is a fresh one of its own (client-node's unpatched
 * `createAgent`, so proxies keep working), so a pending upgrade can be torn down by destroying
 * that agent — the WebSocket object only exists once the upgrade answered.
 */
class SessionConfig {
  readonly kubeConfig: KubeConfig;
  private readonly agents: Agent[] = [];
  private aborted = false;

  constructor(base: KubeConfig) {
    const original = (KubeConfig.prototype as unknown as { createAgent?: CreateAgent }).createAgent;
    const createAgent: CreateAgent = (cluster, agentOptions) => {
      if (this.aborted) throw new Error("the exec request was abandoned");
      if (typeof original !== "function")
        throw new Error("@kubernetes/client-node has no KubeConfig.createAgent any more");
      const agent = original.call(base, cluster, { ...agentOptions, keepAlive: false });
      this.agents.push(agent);
      return agent;
    };
    this.kubeConfig = Object.create(base, {
      createAgent: { value: createAgent },
    }) as KubeConfig;
  }

  /** Destroys every connection the session's agents hold (a pending upgrade among them). */
  abort(): void {
    this.aborted = true;
    for (const agent of this.agents) agent.destroy();
  }
}

export class ExecTransport implements SojuTransport {
  private readonly timeoutMs: number;
  private readonly openTimeoutMs: number;
  private readonly log: SojuLogger;
  /** Sessions opened ahead by prepareSequence, by bouncer. */
  private readonly prepared = new Map<
    string,
    {
      marker: string;
      session: Promise<ExecSession | null>;
      expiry: NodeJS.Timeout;
    }
  >();

  /** Sessions whose commands all succeeded, kept open briefly for the next command (keep). */
  private readonly kept = new Map<string, OpenSequence & { idle: NodeJS.Timeout }>();
  private closing = false;

  constructor(private readonly options: ExecTransportOptions) {
    this.timeoutMs = options.commandTimeoutMs ?? 60_000;
    this.openTimeoutMs = Math.min(options.openTimeoutMs ?? 15_000, this.timeoutMs);
    this.log = options.logger ?? silentLogger;
  }

  async run(bouncer: string, words: readonly string[]): Promise<string[]> {
    const { command, stdin } = sojuctlExec(this.options.configPath, words);
    // The session the last sequence on this bouncer left open: no pod lookup, no new exec.
    const kept = this.takeKept(bouncer);
    if (kept) {
      const result = await this.onSession(bouncer, kept, [sojuctlBatch([words])], 1);
      if (result.failure) throw result.failure.error;
      return result.outputs[0]!;
    }
    const pod = await this.findPod(bouncer);
    return interpretSojuctl(await this.execute(pod, command, stdin));
  }

  /**
   * The commands in one exec session (SOJUCTL_SEQUENCE_SCRIPT), bounded by the one command
   * deadline: the session kept open by the last sequence on this bouncer, else the prepared
   * one, else a new one. With `hold`, the first `hold.before` commands go as a batch of their
   * own and the rest only once `hold.release` resolves, in the same session; when it rejects,
   * the session is ended with the rest never sent. When every command succeeded the session is
   * kept open for the next command on this bouncer (KEPT_IDLE_MS).
   */
  async runSequence(
    bouncer: string,
    commands: ReadonlyArray<readonly string[]>,
    hold?: SequenceHold,
  ): Promise<SequenceResult> {
    const split = hold && hold.before > 0 && hold.before < commands.length ? hold.before : 0;
    // Every word is checked before anything is sent, the held ones too.
    const batches = split
      ? [sojuctlBatch(commands.slice(0, split)), sojuctlBatch(commands.slice(split))]
      : [sojuctlBatch(commands)];
    const open = this.takeKept(bouncer) ?? (await this.sequenceSession(bouncer));
    return this.onSession(
      bouncer,
      open,
      batches,
      commands.length,
      split && hold ? { before: split, release: hold.release } : undefined,
    );
  }

  /**
   * Sends `batches` (the second only after `hold.release`) on an open sequence session, whose
   * script numbers this session's commands from `open.next`, and reads each command's result
   * off its markers. Kept open afterwards when all `count` commands succeeded; otherwise the
   * script has ended (or is ended) and its exit is awaited.
   */
  private async onSession(
    bouncer: string,
    open: OpenSequence,
    batches: string[],
    count: number,
    hold?: SequenceHold,
  ): Promise<SequenceResult> {
    const { session, marker, next: first } = open;
    /** Sends a batch and waits until both streams reported command `through`, one failed, or the session ended. */
    const sent = async (batch: string, through: number): Promise<boolean> => {
      let failed = false;
      await session.send(batch, (stdout, stderr) => {
        const out = reportedThrough(stdout, marker);
        const err = reportedThrough(stderr, marker);
        failed = out.failed || err.failed;
        return failed || (out.through >= through && err.through >= through);
      });
      return !failed && !session.closed;
    };
    // A command failed (the script ends the session) or the session is gone: read it to the end.
    const ended = async () =>
      interpretSequence(await session.finish(undefined), marker, count, first);
    const last = first + count - 1;
    if (hold) {
      if (!(await sent(batches[0]!, first + hold.before - 1))) return ended();
      try {
        await hold.release;
      } catch (reason) {
        session.abandon();
        const { stdout, stderr } = session.output();
        const { outputs } = interpretSequence(
          { stdout, stderr, exitCode: 0 },
          marker,
          hold.before,
          first,
        );
        return {
          outputs,
          failure: {
            index: hold.before,
            error: reason instanceof Error ? reason : new Error(String(reason)),
          },
        };
      }
      if (!(await sent(batches[1]!, last))) return ended();
    } else if (!(await sent(batches[0]!, last))) return ended();
    const { stdout, stderr } = session.output();
    const result = interpretSequence({ stdout, stderr, exitCode: 0 }, marker, count, first);
    this.keep(bouncer, { session, marker, next: last + 1 });
    return result;
  }

  /** The prepared session of `bouncer` if one is open, else a new one. */
  private async sequenceSession(bouncer: string): Promise<OpenSequence> {
    const prepared = await this.takePrepared(bouncer);
    if (prepared) return { ...prepared, next: 0 };
    const marker = randomBytes(12).toString("hex");
    const pod = await this.findPod(bouncer);
    const argv = sojuctlSequenceArgv(this.options.configPath, marker);
    return { session: await this.open(pod, argv, true), marker, next: 0 };
  }

  /**
   * Keeps a session whose commands all succeeded for the next command on `bouncer`, for
   * KEPT_IDLE_MS, while enough of its deadline is left; one per bouncer (an older one is ended).
   */
  private keep(bouncer: string, open: OpenSequence): void {
    if (
      this.closing ||
      open.session.closed ||
      open.session.deadline - Date.now() < KEPT_MIN_REMAINING_MS
    ) {
      endSession(open.session);
      return;
    }
    this.dropKept(bouncer);
    const idle = setTimeout(() => this.dropKept(bouncer), KEPT_IDLE_MS);
    idle.unref();
    this.kept.set(bouncer, { ...open, idle });
  }

  /** The kept session of `bouncer`, if it is still open; it is taken. */
  private takeKept(bouncer: string): OpenSequence | null {
    const entry = this.kept.get(bouncer);
    if (!entry) return null;
    this.kept.delete(bouncer);
    clearTimeout(entry.idle);
    if (entry.session.closed) {
      entry.session.abandon();
      return null;
    }
    return { session: entry.session, marker: entry.marker, next: entry.next };
  }

  private dropKept(bouncer: string): void {
    const entry = this.kept.get(bouncer);
    if (!entry) return;
    this.kept.delete(bouncer);
    clearTimeout(entry.idle);
    endSession(entry.session);
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

  /**
   * One exec session: sends `input` (if any) on stdin without ever closing it, collects
   * stdout/stderr, waits for the Status (exit code). Bounded by the open and command deadlines;
   * the connection is always gone when this returns or throws.
   */
  async execute(pod: string, argv: string[], input?: string): Promise<ExecResult> {
    return (await this.open(pod, argv, input !== undefined)).finish(input);
  }

  /**
   * Opens an exec session and leaves it waiting for its stdin: `finish` sends it and waits for
   * the exit status, `abandon` ends the session with nothing sent. The command deadline counts
   * from here.
   */
  private async open(pod: string, argv: string[], withStdin: boolean): Promise<ExecSession> {
    const { namespace, container } = this.options;
    const started = Date.now();
    const session = new SessionConfig(this.options.kubeConfig);
    const exec = new Exec(session.kubeConfig);
    // Whoever waits for output (`send`) looks again at each write and when the session ends.
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    const stdout = new Collector(wake);
    const stderr = new Collector(wake);
    // Never ended: with the v4 protocol client-node closes the whole session when stdin ends.
    const stdin = withStdin ? new PassThrough() : null;
    let settle: (status: V1Status | undefined) => void = () => undefined;
    let closed = false;
    const done = new Promise<V1Status | undefined>((resolve) => (settle = resolve));
    void done.then(() => (closed = true)).then(wake);

    const opening = exec.exec(namespace, pod, container, argv, stdout, stderr, stdin, false, (s) =>
      settle(s),
    );
    let ws: Awaited<typeof opening>;
    let openTimer: NodeJS.Timeout | undefined;
    try {
      ws = await new Promise<Awaited<typeof opening>>((resolve, reject) => {
        openTimer = setTimeout(
          () =>
            reject(
              new SojuUnavailable(
                `the exec request to pod ${namespace}/${pod} was not answered within ${this.openTimeoutMs} ms`,
              ),
            ),
          this.openTimeoutMs,
        );
        opening.then(resolve, reject);
      });
    } catch (error) {
      session.abort();
      stdin?.destroy();
      // Should the upgrade still complete, close it at once.
      opening.then(
        (late) => late.terminate(),
        () => undefined,
      );
      // Never the request URL: only the error's own text (ws errors name no URL).
      throw error instanceof SojuUnavailable
        ? error
        : new SojuUnavailable(
            `exec into pod ${namespace}/${pod} container ${container} failed: ${describeExecError(error)}`,
          );
    } finally {
      clearTimeout(openTimer);
    }

    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        settle(undefined);
      },
      Math.max(0, started + this.timeoutMs - Date.now()),
    );
    ws.on("close", () => settle(undefined));
    ws.on("error", () => settle(undefined));
    const end = () => {
      clearTimeout(timer);
      ws.terminate();
      session.abort();
      stdin?.destroy();
    };
    return {
      get closed() {
        return closed;
      },
      deadline: started + this.timeoutMs,
      abandon: () => {
        settle(undefined);
        end();
      },
      output: () => ({ stdout: stdout.text(), stderr: stderr.text() }),
      send: async (input, ready) => {
        if (!closed) stdin?.write(input);
        await new Promise<void>((resolve) => {
          const look = () => {
            if (!closed && !ready(stdout.text(), stderr.text())) return;
            waiters.delete(look);
            resolve();
          };
          waiters.add(look);
          look();
        });
      },
      finish: async (input) => {
        if (input !== undefined) stdin?.write(input);
        const status = await done;
        end();
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
      },
    };
  }

  /**
   * The prefetch hook: opens the exec session of the coming `runSequence` on this bouncer now
   * (pod lookup, WebSocket upgrade, the sequence script started), so that the command round
   * trip later is only the commands. The script reads a whole batch before running any of it,
   * so a session that never gets its stdin runs nothing: it is abandoned on `release` or after
   * PREPARED_TTL_MS. Best effort: a prepared session that failed to open or has ended is
   * dropped and `runSequence` opens its own, whose error (if any) is the one reported.
   */
  prepareSequence(bouncer: string): void {
    this.dropPrepared(bouncer);
    const marker = randomBytes(12).toString("hex");
    const argv = sojuctlSequenceArgv(this.options.configPath, marker);
    const session = this.findPod(bouncer)
      .then((pod) => this.open(pod, argv, true))
      .catch(() => null);
    const expiry = setTimeout(() => this.dropPrepared(bouncer), PREPARED_TTL_MS);
    expiry.unref();
    this.prepared.set(bouncer, { marker, session, expiry });
  }

  /** The prepared session of `bouncer`, if one is open; it is taken. */
  private async takePrepared(
    bouncer: string,
  ): Promise<{ session: ExecSession; marker: string } | null> {
    const entry = this.prepared.get(bouncer);
    if (!entry) return null;
    this.prepared.delete(bouncer);
    clearTimeout(entry.expiry);
    const session = await entry.session;
    if (!session) return null;
    if (session.closed) {
      session.abandon();
      return null;
    }
    return { session, marker: entry.marker };
  }

  private dropPrepared(bouncer: string): void {
    const entry = this.prepared.get(bouncer);
    if (!entry) return;
    this.prepared.delete(bouncer);
    clearTimeout(entry.expiry);
    void entry.session.then((s) => s?.abandon());
  }

  async release(bouncer: string): Promise<void> {
    // Nothing else is held per bouncer.
    this.dropPrepared(bouncer);
    this.dropKept(bouncer);
  }

  async close(): Promise<void> {
    // Nothing else is open between commands; no session is kept from now on.
    this.closing = true;
    for (const bouncer of [...this.prepared.keys()]) this.dropPrepared(bouncer);
    for (const bouncer of [...this.kept.keys()]) this.dropKept(bouncer);
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
