import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import {
  authEnv,
  dbEnv,
  ergoEnv,
  keycloakAdminEnv,
  kubeEnv,
  logEnv,
  publicEnv,
  sojuEnv,
  upstreamEnv,
  workerEnv,
} from "@irc-now/config";
import type { Env } from "./stack";

/**
 * `.env.dev`: the settings of the running `npm run dev` stack, for tools that talk to it
 * (`npm run worker -- status`). Written once the stack is up, removed when it stops, git-ignored,
 * readable by its owner only (it holds the stack's throwaway secrets). `DEV_ENV_FILE` moves it.
 */
export const root = fileURLToPath(new URL("../../../", import.meta.url));

/** `DEV_ENV_FILE` (relative to where npm was run) or `.env.dev` at the repository root. */
export function envFilePath(env: Record<string, string | undefined> = process.env): string {
  if (!env.DEV_ENV_FILE) return `${root}.env.dev`;
  return resolve(env.INIT_CWD ?? process.cwd(), env.DEV_ENV_FILE);
}

/** Every variable of the product's configuration areas: what the file may carry. */
const variables = new Set(
  [
    dbEnv,
    kubeEnv,
    ergoEnv,
    sojuEnv,
    upstreamEnv,
    workerEnv,
    logEnv,
    authEnv,
    keycloakAdminEnv,
    publicEnv,
  ].flatMap((area) => Object.keys(area.shape)),
);

/**
 * Variables that say which stack a tool talks to. When the environment already sets one of them,
 * the file is not used at all: half of the dev stack and half of another is never what is meant.
 */
export const TARGET_VARIABLES = ["DATABASE_URL", "KUBECONFIG", "ERGO_IRC_URL", "ERGO_API_URL"];

function quote(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`cannot write a multi-line value to an env file`);
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\$`]/.test(value)) return `"${value}"`;
  throw new Error("cannot quote a value with both ' and \" for an env file");
}

export function writeEnvFile(path: string, env: Env): void {
  const lines = [
    `# Written by \`npm run dev\` (pid ${process.pid}) for tools that talk to its stack, e.g.`,
    "# `npm run worker -- status`. Removed when that `npm run dev` stops. Variables already set in",
    "# the environment win; setting DATABASE_URL, KUBECONFIG or ERGO_* there ignores this file.",
    `# pid=${process.pid}`,
    ...Object.keys(env)
      .filter((key) => variables.has(key) && env[key] !== "")
      .sort()
      .map((key) => `${key}=${quote(env[key]!)}`),
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
}

/** Removes the file if this process wrote it (a later `npm run dev` may have replaced it). */
export function removeEnvFile(path: string): void {
  try {
    if (ownerPid(readFileSync(path, "utf8")) === process.pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

function ownerPid(text: string): number | undefined {
  const pid = /^# pid=(\d+)$/m.exec(text)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

export type LoadResult =
  | { used: true; path: string; pid: number | undefined }
  | { used: false; path: string; reason: "missing" | "stale" | "overridden"; pid?: number };

/**
 * Fills `env` from the file when it exists, its `npm run dev` is still running, and `env` names
 * no other stack (TARGET_VARIABLES). Variables already set in `env` are kept.
 */
export function loadEnvFile(
  env: Record<string, string | undefined> = process.env,
  path = envFilePath(env),
): LoadResult {
  if (!existsSync(path)) return { used: false, path, reason: "missing" };
  if (TARGET_VARIABLES.some((key) => env[key])) return { used: false, path, reason: "overridden" };
  const text = readFileSync(path, "utf8");
  const pid = ownerPid(text);
  if (pid !== undefined && !alive(pid)) return { used: false, path, reason: "stale", pid };
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (!env[key]) env[key] = value;
  }
  return { used: true, path, pid };
}
