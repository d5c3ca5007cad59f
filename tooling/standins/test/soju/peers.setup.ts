import { peersGlobalSetup } from "@irc-now/peers/global-setup";

// `npm run test:peers`: the tests start their own real soju; this run-wide setup gives them a state
// root, and its teardown stops whatever is left (also after a crash) and removes it.
export default peersGlobalSetup({ ergo: false });
