import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@irc-now/db/testing/global-setup"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // One browser and one Next server at a time on a 2-core machine.
    fileParallelism: false,
  },
});
