import { peersGlobalSetup } from "../../src/global-setup";

// One real ergo, one real kube-apiserver and one embedded PostgreSQL for the run.
export default peersGlobalSetup({ ergo: true, kube: true, postgres: true });
