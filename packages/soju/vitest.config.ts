import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["@irc-now/db/testing/global-setup"],
    // test/peers/ needs the real programs of the peers kit: `npm run test:peers` runs it.
    exclude: [...configDefaults.exclude, "test/peers/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
