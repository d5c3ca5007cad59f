import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:peers` (REAL_PEERS=1): upstream setups against the REAL ergo 2.15, soju 0.10.1
 * (socket adapter) and kube-apiserver 1.24 of the peers kit. From this package:
 * `REAL_PEERS=1 npx vitest run --config test/peers.config.ts`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["test/peers/**/*.test.ts"],
    globalSetup: ["@irc-now/db/testing/global-setup", "./test/peers.setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
