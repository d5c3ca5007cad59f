import { existsSync, readdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startErgo, type ErgoFacts, type RealErgo } from "./ergo";
import { kitStopSync, peersKitDir, peersKitAvailable, realPeersRequested } from "./kit";
import { startKube, type KubeFacts, type RealKube } from "./kube";
import { startPostgres, type EmbeddedPg } from "./postgres";

/** What the globalSetup hands to the tests (`inject("peers")`); null without `REAL_PEERS=1`. */
export interface PeersContext {
  /** The kit folder in use. */
  kit: string;
  /** Parent of every state dir of this run; peers started by test workers go here too. */
  stateRoot: string;
  ergo: ErgoFacts | null;
  kube: KubeFacts | null;
  /** URL of the `postgres` database of the run's embedded PostgreSQL (create your own DBs). */
  postgresUrl: string | null;
}

declare module "vitest" {
  export interface ProvidedContext {
    peers: PeersContext | null;
  }
}

export interface PeersGlobalSetupOptions {
  /** Start one real ergo for the whole run (default true). */
  ergo?: boolean;
  /** Start one real kube-apiserver + etcd (default false: 5–10 s, needs etcd-server). */
  kube?: boolean;
  /** Start one embedded PostgreSQL (default false). */
  postgres?: boolean;
}

/** Which kit script stops what a pid file in a state dir belongs to. */
const PID_FILES: Array<[file: string, script: string]> = [
  ["soju.pid", "soju.sh"],
  ["ergo.pid", "ergo.sh"],
  ["kube-apiserver.pid", "kube.sh"],
  ["kube-etcd.pid", "kube.sh"],
];

/**
 * Stops every kit server whose pid file is in `root` or in a directory below it (3 levels), e.g.
 * a soju a crashed test worker left behind. Each stop is the kit's own, which only stops a process
 * whose command line still names that state dir.
 */
export function sweepStateRoot(root: string, depth = 3): void {
  if (!existsSync(root)) return;
  const files = new Set(readdirSync(root));
  const scripts = new Set(PID_FILES.filter(([f]) => files.has(f)).map(([, s]) => s));
  for (const script of scripts) kitStopSync(script, root);
  if (depth === 0) return;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isDirectory()) sweepStateRoot(join(root, entry.name), depth - 1);
  }
}

/**
 * A Vitest globalSetup that starts the real peers requested, once per run, when `REAL_PEERS=1`
 * (`npm run test:peers` sets it); otherwise it provides `peers: null` and starts nothing, so the
 * same config works in `npm test`. Teardown (also after failures) stops every peer it started,
 * sweeps the state root for peers the test workers left running, and removes it.
 *
 * ```ts
 * // test/peers.setup.ts
 * import { peersGlobalSetup } from "@irc-now/peers/global-setup";
 * export default peersGlobalSetup({ ergo: true, postgres: true });
 * // vitest config: test: { globalSetup: ["./test/peers.setup.ts"] }
 * // in a test: const peers = inject("peers"); describe.skipIf(!peers)(…)
 * ```
 */
export function peersGlobalSetup(options: PeersGlobalSetupOptions = {}) {
  return async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
    if (!realPeersRequested()) {
      project.provide("peers", null);
      return undefined;
    }
    if (!peersKitAvailable()) {
      throw new Error(
        `REAL_PEERS=1 but there is no peers kit at ${peersKitDir()} (set PEERS_KIT to its folder)`,
      );
    }
    const root = await mkdtemp(join(tmpdir(), "irc-now-peers-"));
    const previousRoot = process.env.PEERS_STATE_ROOT;
    // Test workers are forked after this point and inherit it: their peers land under `root`.
    process.env.PEERS_STATE_ROOT = root;
    let ergo: RealErgo | undefined;
    let kube: RealKube | undefined;
    let postgres: EmbeddedPg | undefined;

    const teardown = async (): Promise<void> => {
      const results = await Promise.allSettled([ergo?.stop(), kube?.stop(), postgres?.stop()]);
      sweepStateRoot(root);
      rmSync(root, { recursive: true, force: true });
      if (previousRoot === undefined) delete process.env.PEERS_STATE_ROOT;
      else process.env.PEERS_STATE_ROOT = previousRoot;
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    };

    try {
      // One at a time: the machine may have 2 cores, and kube's cold start is the heavy one.
      if (options.postgres) postgres = await startPostgres();
      if (options.ergo ?? true) ergo = await startErgo();
      if (options.kube) kube = await startKube();
      project.provide("peers", {
        kit: peersKitDir(),
        stateRoot: root,
        ergo: ergo?.facts() ?? null,
        kube: kube?.facts() ?? null,
        postgresUrl: postgres?.url() ?? null,
      });
    } catch (error) {
      await teardown().catch(() => undefined);
      throw error;
    }
    return teardown;
  };
}

/** Everything: ergo, kube-apiserver and PostgreSQL. */
export default peersGlobalSetup({ ergo: true, kube: true, postgres: true });
