import { peersGlobalSetup } from "@irc-now/peers/global-setup";

// `npm run test:peers`: one real ergo and one real kube-apiserver for the run; each test starts
// the real sojus it needs. Teardown stops whatever is left and removes the state root.
export default peersGlobalSetup({ ergo: true, kube: true });
