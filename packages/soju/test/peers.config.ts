import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:peers` (REAL_PEERS=1): the SojuAdmin contract against the real soju, ergo and
 * kube-apiserver of the peers kit. From this package:
 * `REAL_PEERS=1 npx vitest run --config test/peers.config.ts`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("..", import.meta.url)),
    include: ["test/contract.test.ts", "test/peers/**/*.test.ts"],
    globalSetup: ["./test/peers.setup.ts"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
