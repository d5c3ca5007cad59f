import { defineConfig } from "vitest/config";

// `npm test`: the Dockerfile rules, the rendered manifests, and the worker bundle run with `node`
// against the Kubernetes stand-in and an embedded PostgreSQL. The real-apiserver proof is
// `npm run test:deploy` (test/deploy.config.ts).
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    globalSetup: ["@irc-now/db/testing/global-setup"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
