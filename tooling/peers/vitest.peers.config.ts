import { defineConfig } from "vitest/config";

/**
 * `npm run test:peers` (REAL_PEERS=1): the helpers against the real programs of the peers kit,
 * and the end-to-end check (ErgoAdmin + SojuAdmin socket adapter + real ergo + real soju).
 * From this folder: `REAL_PEERS=1 npx vitest run --config vitest.peers.config.ts`.
 */
export default defineConfig({
  test: {
    include: ["test/real/**/*.test.ts"],
    globalSetup: ["./test/real/peers.setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
