import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      // every Next build folder (NEXT_DIST_DIR: dev test, e2e dev server, bench, a second dev)
      "**/.next-*/**",
      "**/dist/**",
      "**/.turbo/**",
      "**/test-results/**",
      "**/next-env.d.ts",
      "packages/db/migrations/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "off",
      eqeqeq: ["error", "smart"],
    },
  },
  {
    // Configuration is read and validated in one place per app (env.ts / packages/config).
    files: ["apps/**/*.{ts,tsx}", "packages/{db,k8s,ergo}/src/**/*.ts"],
    ignores: [
      "**/env.ts",
      "**/test/**",
      "**/*.test.ts",
      "packages/db/src/testing/**",
      "packages/db/src/cli/**",
    ],
    rules: {
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Read configuration through @irc-now/config in env.ts.",
        },
      ],
    },
  },
  {
    files: ["apps/web/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
