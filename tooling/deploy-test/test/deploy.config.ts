import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:deploy`: deploy/ rendered by kustomize and applied to the REAL kube-apiserver 1.24
 * of the peers kit, then the worker bundle and the web's standalone server run with the tokens of
 * the manifests' ServiceAccounts through one bouncer's whole life (real ergo and soju). The steps
 * run in order and depend on each other.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["test/deploy/**/*.test.ts"],
    globalSetup: ["@irc-now/db/testing/global-setup", "./test/deploy/peers.setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
    sequence: { concurrent: false },
  },
});
