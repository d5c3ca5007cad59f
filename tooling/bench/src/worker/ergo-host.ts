/**
 * The worker benchmark's ergo stand-in in a process of its own (forked by ./peers-host.ts). In
 * production ergo is its own server: sharing the peers process's one event loop with the API
 * stand-in and every soju would make ergo's SAREGISTER and SASL checks wait behind soju's
 * commands, which a setup runs side by side with them (and the floor one after another).
 * Sends its address once listening; stops when the peers process goes away.
 */
import { startErgoStandin } from "@irc-now/standins/ergo";
import type { PeersInfo } from "./peers-protocol";

const ergo = await startErgoStandin();
const info: PeersInfo["ergo"] = { ircUrl: ergo.ircUrl, ircPort: ergo.ircPort, oper: ergo.oper };
process.send?.(info);
process.on("disconnect", () => {
  void ergo.stop().finally(() => process.exit(0));
});
