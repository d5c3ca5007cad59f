/**
 * Preloaded by the worker's operator CLI (`npm run worker -- …`, apps/worker's `cli` script):
 * with a `npm run dev` stack up, the CLI talks to it without any setup, through the settings
 * that stack wrote to `.env.dev`. Nothing happens when the file is missing, when its stack has
 * stopped, or when the environment already names a stack (DATABASE_URL, KUBECONFIG, ERGO_*).
 */
import { relative } from "node:path";
import { loadEnvFile } from "./env-file";

const result = loadEnvFile();
const rel = relative(process.env.INIT_CWD ?? process.cwd(), result.path);
const shown = rel && !rel.startsWith("..") ? rel : result.path;
if (result.used) {
  console.error(`(using the \`npm run dev\` stack's settings from ${shown})`);
} else if (result.reason === "stale") {
  console.error(
    `(ignoring ${shown}: the \`npm run dev\` that wrote it, pid ${result.pid}, is no longer running)`,
  );
}
