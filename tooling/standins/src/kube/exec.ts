/**
 * `pods/exec` over WebSocket, speaking the kubelet's channel protocols
 * (`v5.channel.k8s.io` and `v4.channel.k8s.io`): every binary frame starts with its
 * channel — 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize, 255 close (v5) — and the
 * session ends with a `Status` on channel 3 carrying the exit code. Commands run in exec
 * handlers that whoever "runs" the pod registers; no process is started.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { PassThrough, Writable, type Readable } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { isRecord, type StoredObject } from "./objects";
import type { Registry } from "./registry";
import { pods, resourceKey } from "./resources";
import { badRequest } from "./status";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const CLOSE = 255;

/** What an exec handler gets: the command and the container's standard streams. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  /** argv, e.g. `["sojuctl", "-config", "/etc/soju/config", "user", "status"]`. */
  command: string[];
  tty: boolean;
  /** Ends when the client closes stdin (or at once when the client sent none). */
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the client goes away or the pod is deleted. */
  signal: AbortSignal;
}

/** Runs one command; its result is the exit code (undefined means 0). A throw is a runtime failure. */
export type ExecHandler = (request: ExecRequest) => number | void | Promise<number | void>;

export interface ExecTarget {
  namespace: string;
  pod: string;
  /** Omitted: every container of the pod without a handler of its own. */
  container?: string;
}

/** The parameters of an exec request (PodExecOptions). */
interface ExecOptions {
  command: string[];
  container?: string;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function parseExecOptions(query: URLSearchParams): ExecOptions {
  const flag = (name: string): boolean =>
    ["true", "1"].includes((query.get(name) ?? "").toLowerCase());
  const options: ExecOptions = {
    command: query.getAll("command"),
    stdin: flag("stdin"),
    stdout: flag("stdout"),
    stderr: flag("stderr"),
    tty: flag("tty"),
  };
  const container = query.get("container");
  if (container !== null && container !== "") options.container = container;
  return options;
}

function handlerKey(namespace: string, pod: string, container: string): string {
  return `${namespace}/${pod}/${container}`;
}

export class ExecService {
  private readonly handlers = new Map<string, ExecHandler>();
  private readonly sessions = new Map<string, Set<AbortController>>();
  private readonly wss: WebSocketServer;
  private readonly preferred: readonly string[];

  constructor(
    private readonly registry: Registry,
    protocols: readonly ExecProtocol[] = EXEC_PROTOCOLS,
  ) {
    this.preferred = protocols;
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => this.pickProtocol(offered) ?? false,
    });
    registry.store.subscribe((event) => {
      // A deleted pod's containers are gone: its handlers and running sessions with it.
      if (event.resource !== resourceKey(pods) || event.type !== "DELETED") return;
      const prefix = `${event.object.metadata.namespace ?? ""}/${event.object.metadata.name}/`;
      for (const key of [...this.handlers.keys()])
        if (key.startsWith(prefix)) this.handlers.delete(key);
      for (const [key, set] of this.sessions)
        if (key.startsWith(prefix)) for (const c of set) c.abort();
    });
  }

  /** Routes exec requests for a pod's container (or all its containers) to `handler`. Returns an unregister function. */
  register(target: ExecTarget, handler: ExecHandler): () => void {
    const key = handlerKey(target.namespace, target.pod, target.container ?? "*");
    this.handlers.set(key, handler);
    return () => {
      if (this.handlers.get(key) === handler) this.handlers.delete(key);
    };
  }

  /** Number of exec sessions in progress. */
  get activeSessions(): number {
    let n = 0;
    for (const set of this.sessions.values()) n += set.size;
    return n;
  }

  private pickProtocol(offered: Set<string>): string | undefined {
    return this.preferred.find((p) => offered.has(p));
  }

  /**
   * Checks an exec request as the apiserver and kubelet would, before upgrading: the pod
   * exists and runs, the container is known, a command and a stream are given, and the
   * client speaks a channel protocol this server offers. Throws StatusErrors.
   */
  prepare(
    namespace: string,
    podName: string,
    query: URLSearchParams,
    offeredProtocols: string[],
  ): { pod: StoredObject; container: string; options: ExecOptions } {
    const options = parseExecOptions(query);
    const pod = this.registry.get(pods, namespace, podName);
    if (options.command.length === 0) throw badRequest("you must specify at least 1 command");
    if (!options.stdin && !options.stdout && !options.stderr)
      throw badRequest("you must specify at least 1 of stdin, stdout, stderr");
    const spec = isRecord(pod.spec) ? pod.spec : {};
    const names = (Array.isArray(spec.containers) ? spec.containers : []).map((c: unknown) =>
      isRecord(c) && typeof c.name === "string" ? c.name : "",
    );
    let container = options.container;
    if (container === undefined) {
      if (names.length !== 1)
        throw badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${names.join(" ")}]`,
        );
      container = names[0] ?? "";
    }
    if (!names.includes(container))
      throw badRequest(`container ${container} is not valid for pod ${podName}`);
    const phase = isRecord(pod.status) ? pod.status.phase : undefined;
    if (phase === "Succeeded" || phase === "Failed")
      throw badRequest(
        `cannot exec into a container in a completed pod; current phase is ${String(phase)}`,
      );
    if (phase !== "Running")
      throw badRequest(`unable to upgrade connection: container not found ("${container}")`);
    if (this.pickProtocol(new Set(offeredProtocols)) === undefined) {
      throw badRequest(
        `unable to upgrade connection: none of the requested subprotocols is supported (${EXEC_PROTOCOLS.join(", ")})`,
      );
    }
    return { pod, container, options };
  }

  /** Upgrades the connection and runs the command. `prepare` must have passed. */
  upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    namespace: string,
    podName: string,
    container: string,
    options: ExecOptions,
  ): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.run(ws, namespace, podName, container, options);
    });
  }

  private async run(
    ws: WebSocket,
    namespace: string,
    pod: string,
    container: string,
    options: ExecOptions,
  ): Promise<void> {
    const controller = new AbortController();
    const sessionKey = handlerKey(namespace, pod, container);
    let set = this.sessions.get(sessionKey);
    if (set === undefined) {
      set = new Set();
      this.sessions.set(sessionKey, set);
    }
    set.add(controller);

    const open = (): boolean => ws.readyState === ws.OPEN;
    const send = (channel: number, data: Buffer): Promise<void> =>
      new Promise((resolve) => {
        if (!open()) return resolve();
        ws.send(Buffer.concat([Buffer.from([channel]), data]), () => resolve());
      });
    const channelWriter = (channel: number, enabled: boolean): Writable =>
      new Writable({
        write(chunk: Buffer | string, encoding, callback) {
          if (!enabled) return callback();
          const data = typeof chunk === "string" ? Buffer.from(chunk, encoding) : chunk;
          void send(channel, data).then(() => callback());
        },
      });

    const stdin = new PassThrough();
    if (!options.stdin) stdin.end();
    const stdout = channelWriter(STDOUT, options.stdout);
    // With a TTY there is no separate stderr: it goes to the terminal (stdout).
    const stderr = channelWriter(
      options.tty ? STDOUT : STDERR,
      options.tty ? options.stdout : options.stderr,
    );

    ws.on("message", (raw: RawData) => {
      const data = toBuffer(raw);
      const channel = data[0];
      if (channel === STDIN && options.stdin && !stdin.writableEnded) stdin.write(data.subarray(1));
      else if (channel === CLOSE && data[1] === STDIN) stdin.end();
      // Channel 4 (terminal resize) is accepted and ignored.
    });
    ws.on("close", () => {
      controller.abort();
      if (!stdin.writableEnded) stdin.end();
    });
    ws.on("error", () => controller.abort());

    const handler =
      this.handlers.get(sessionKey) ?? this.handlers.get(handlerKey(namespace, pod, "*"));
    let status: Record<string, unknown>;
    try {
      if (handler === undefined) {
        throw new Error(
          `error executing command in container: failed to exec in container: exec: "${options.command[0] ?? ""}": executable file not found in $PATH`,
        );
      }
      const result = await handler({
        namespace,
        pod,
        container,
        command: [...options.command],
        tty: options.tty,
        stdin,
        stdout,
        stderr,
        signal: controller.signal,
      });
      const code = typeof result === "number" ? result : 0;
      await Promise.all([finish(stdout), finish(stderr)]);
      status =
        code === 0
          ? { metadata: {}, status: "Success" }
          : {
              metadata: {},
              status: "Failure",
              message: `command terminated with non-zero exit code: error executing command [${options.command.join(" ")}], exit code ${code}`,
              reason: "NonZeroExitCode",
              details: { causes: [{ reason: "ExitCode", message: String(code) }] },
            };
    } catch (err) {
      await Promise.all([finish(stdout), finish(stderr)]);
      const message = err instanceof Error ? err.message : String(err);
      status = {
        metadata: {},
        status: "Failure",
        message: `Internal error occurred: ${message}`,
        reason: "InternalError",
        details: { causes: [{ message }] },
        code: 500,
      };
    }
    // The session is over once its status is known; then the kubelet reports it and closes.
    set.delete(controller);
    if (set.size === 0) this.sessions.delete(sessionKey);
    await send(STATUS, Buffer.from(JSON.stringify(status)));
    if (open()) ws.close(1000);
  }

  /** Aborts every session (on restart and stop). */
  abortAll(): void {
    for (const set of this.sessions.values()) for (const c of set) c.abort();
  }

  close(): void {
    this.abortAll();
    this.wss.close();
  }
}

function finish(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableFinished || stream.destroyed) return resolve();
    stream.once("finish", () => resolve());
    stream.once("error", () => resolve());
    if (!stream.writableEnded) stream.end();
  });
}

function toBuffer(raw: RawData): Buffer {
  if (Buffer.isBuffer(raw)) return raw;
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.from(raw);
}
