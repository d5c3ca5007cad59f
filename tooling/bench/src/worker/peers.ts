/**
 * The worker benchmark's side of its peers process (./peers-host.ts): start it, create and
 * delete bouncers there, and follow their Ready and annotation commits.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import type { SojuBouncer } from "@irc-now/k8s";
import { endChild } from "./child";
import type { HostEvent, HostReply, HostRequest, PeersInfo } from "./peers-protocol";
import { chunks, sleep, until } from "./stats";

type Request = HostRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, "id">
    : never
  : never;

/** Epoch milliseconds with sub-millisecond resolution: the clock the peers process stamps with. */
export const clock = () => performance.timeOrigin + performance.now();

export interface PeersProcess extends PeersInfo {
  call(request: Request): Promise<unknown>;
  /** Subscribes to Ready / annotation commits; returns unsubscribe. */
  onEvent(listener: (event: HostEvent) => void): () => void;
  stop(): Promise<void>;
}

export async function startPeersProcess(options: {
  namespaces: string[];
  dir: string;
  postgresUrl: string;
}): Promise<PeersProcess> {
  // Forked with this process's flags (tsx's loader), stdout/stderr shared, IPC for the rest.
  const child: ChildProcess = fork(fileURLToPath(new URL("./peers-host.ts", import.meta.url)), {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Set<(event: HostEvent) => void>();
  child.on("message", (message: HostEvent | HostReply) => {
    if ("ev" in message) {
      for (const l of listeners) l(message);
      return;
    }
    const p = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) p?.reject(new Error(`peers process: ${message.error}`));
    else p?.resolve(message.value);
  });
  child.once("exit", (code, signal) => {
    for (const p of pending.values())
      p.reject(new Error(`peers process exited (${signal ?? `code ${code}`})`));
    pending.clear();
  });
  const call = (request: Request) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ ...request, id } as HostRequest);
    });
  try {
    const info = (await call({ op: "start", ...options })) as PeersInfo;
    return {
      ...info,
      call,
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async stop() {
        await call({ op: "stop" }).catch(() => undefined);
        process.off("exit", killOnExit);
        await endChild(child);
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

/** Clock readings (see `clock`) of each bouncer's first Ready=True and first annotation, as committed. */
export class Tracker {
  readonly ready = new Map<string, number>();
  readonly annotated = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    peers: PeersProcess,
    readonly namespace: string,
    private readonly onReady?: (bouncer: SojuBouncer) => void,
  ) {
    this.unsubscribe = peers.onEvent((event) => {
      if (event.ns !== namespace) return;
      if (event.ev === "ready" && !this.ready.has(event.name)) {
        this.ready.set(event.name, event.t);
        if (event.object) this.onReady?.(event.object);
      }
      if (event.ev === "annotated" && !this.annotated.has(event.name))
        this.annotated.set(event.name, event.t);
    });
  }

  /** Ready → annotated in ms for each name that has both. */
  latencies(names: readonly string[]): number[] {
    return names.flatMap((n) => {
      const r = this.ready.get(n);
      const a = this.annotated.get(n);
      return r !== undefined && a !== undefined ? [a - r] : [];
    });
  }

  stop(): void {
    this.unsubscribe();
  }
}

export interface Namespace {
  name: string;
  tracker: Tracker;
  created: string[];
}

/**
 * A namespace with its own simulated operator in the peers process. `readyDelayMs` is the
 * operator's delay between the soju pod running and Ready=True (the soju user is created
 * meanwhile, as in the worker's test harness). `onReady` gets each bouncer as it turns Ready.
 */
export async function openNamespace(
  peers: PeersProcess,
  name: string,
  readyDelayMs: number,
  onReady?: (bouncer: SojuBouncer) => void,
): Promise<Namespace> {
  const tracker = new Tracker(peers, name, onReady);
  await peers.call({ op: "open", ns: name, readyDelayMs, withObjects: onReady !== undefined });
  return { name, tracker, created: [] };
}

/** Creates SojuBouncers `names`, each owned by `owners.get(name)` (a `users.id`). */
export async function createBouncers(
  peers: PeersProcess,
  ns: Namespace,
  names: readonly string[],
  owners: ReadonlyMap<string, string>,
): Promise<void> {
  for (const batch of chunks(names, 1000)) {
    await peers.call({
      op: "create",
      ns: ns.name,
      items: batch.map((name) => ({ name, ownerId: owners.get(name)! })),
    });
    ns.created.push(...batch);
  }
}

/** The API requests made into a namespace while it was open, per bouncer created there, by kind. */
export type RequestsPerBouncer = Record<string, number>;

/**
 * Deletes the namespace's bouncers (soju stopped, pod, secret and DB removed) and its operator.
 * Resolves with the API requests clients (worker, floor) made into it, per bouncer.
 */
export async function closeNamespace(
  peers: PeersProcess,
  ns: Namespace,
  pgConnections: () => Promise<number>,
  parallel = 10,
): Promise<RequestsPerBouncer> {
  ns.tracker.stop();
  const counts = (await peers.call({ op: "close", ns: ns.name, parallel })) as Record<
    string,
    number
  >;
  const bouncers = Math.max(1, ns.created.length);
  const perBouncer = Object.fromEntries(
    Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => [kind, Math.round((n / bouncers) * 100) / 100]),
  );
  ns.created.length = 0;
  // Let the soju pools' idle connections go before the next phase measures anything.
  await until(
    async () => (await pgConnections()) < 20,
    "PostgreSQL connections to drop",
    30_000,
    250,
  ).catch(() => undefined);
  await sleep(500);
  return perBouncer;
}

/**
 * Creates `names` (owners from `owners`) in chunks of `parallel`, waiting for each chunk to be
 * Ready, and keeping PostgreSQL below `maxPgConnections` (the bench's server allows 500; every
 * soju stand-in pool keeps an idle connection for 10 s).
 */
export async function provision(
  peers: PeersProcess,
  ns: Namespace,
  names: readonly string[],
  opts: {
    owners: ReadonlyMap<string, string>;
    pgConnections: () => Promise<number>;
    parallel: number;
    maxPgConnections: number;
    onProgress?: (done: number) => void;
  },
): Promise<void> {
  let done = 0;
  for (const chunk of chunks(names, opts.parallel)) {
    await until(
      async () => (await opts.pgConnections()) < opts.maxPgConnections,
      "PostgreSQL connections to drop",
      60_000,
      250,
    );
    await createBouncers(peers, ns, chunk, opts.owners);
    await until(
      () => chunk.every((n) => ns.tracker.ready.has(n)),
      `bouncers ${chunk[0]}… to be Ready`,
      120_000,
    );
    done += chunk.length;
    opts.onProgress?.(done);
  }
}
