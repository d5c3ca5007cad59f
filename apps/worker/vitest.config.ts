import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@irc-now/db/testing/global-setup"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
