/**
 * @irc-now/peers: start and stop the REAL external programs of irc.now (ergo 2.15.0, soju 0.10.1
 * with sojuctl, kube-apiserver 1.24 + etcd) from the peers kit, plus an embedded PostgreSQL, for
 * tests that must hold against the real thing (`npm run test:peers`). See README.md.
 */
export {
  REPO_ROOT,
  PeersKitError,
  freePort,
  parseFacts,
  peersKitAvailable,
  peersKitDir,
  realPeersRequested,
  stateRoot,
  type Facts,
} from "./kit";
export { livePeers } from "./registry";
export { IrcLineClient, parseLine, type IrcLine } from "./irc";
export {
  ergoProbe,
  startErgo,
  type ErgoFacts,
  type ErgoProbe,
  type RealErgo,
  type StartErgoOptions,
} from "./ergo";
export {
  startSoju,
  type RealSoju,
  type SojuFacts,
  type SojuctlResult,
  type StartSojuOptions,
} from "./soju";
export {
  findEtcd,
  kubeconfigYaml,
  startKube,
  type KubeFacts,
  type RealKube,
  type StartKubeOptions,
} from "./kube";
export { createDatabase, startPostgres, type EmbeddedPg } from "./postgres";
export type { PeersContext, PeersGlobalSetupOptions } from "./global-setup";
