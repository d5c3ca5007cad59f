import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:peers` (REAL_PEERS=1): the cases that pin the ergo stand-in to ergo 2.15.0, run against
 * the real ergo 2.15.0 of the peers kit. From tooling/standins:
 * `REAL_PEERS=1 npx vitest run --config test/ergo/peers.config.ts`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/ergo/ergo-2.15.test.ts"],
    globalSetup: ["./test/ergo/peers.setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
