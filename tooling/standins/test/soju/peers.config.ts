import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * `npm run test:peers` (REAL_PEERS=1): the cases that pin the soju stand-in to soju 0.10.1, run against
 * the real soju 0.10.1 of the peers kit. From tooling/standins:
 * `REAL_PEERS=1 npx vitest run --config test/soju/peers.config.ts`.
 */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/soju/soju-0.10.1.test.ts", "test/soju/auth-http.test.ts"],
    globalSetup: ["./test/soju/peers.setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
