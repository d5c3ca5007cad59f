import { peersGlobalSetup } from "@irc-now/peers/global-setup";

// One real ergo and one real kube-apiserver for the run; the test starts the soju it needs.
export default peersGlobalSetup({ ergo: true, kube: true });
