import { defineConfig } from "vitest/config";

// `npm test`: the helpers' own unit tests (no peers kit needed). The real-peer tests are in
// test/real and run under `npm run test:peers` (vitest.peers.config.ts).
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
