export { postgresService } from "./postgres";
export { keycloakService } from "./keycloak";
export { ergoService, kubeService } from "./kube";
export { irccloudService } from "./irccloud";
export { stripeService } from "./stripe";
