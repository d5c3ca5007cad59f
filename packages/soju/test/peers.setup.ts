import { peersGlobalSetup } from "@irc-now/peers/global-setup";

// `npm run test:peers`: one real ergo (the upstream), one real kube-apiserver (secrets, pods) and
// one embedded PostgreSQL for the run; each bouncer starts its own real soju under the run's state
// root. Teardown stops all of them (also after a crash) and removes their state.
export default peersGlobalSetup({ ergo: true, kube: true, postgres: true });
