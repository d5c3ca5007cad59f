import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "@irc-now/db/testing";

const webDir = fileURLToPath(new URL("../../../apps/web", import.meta.url));

export interface WebServer {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Runs the production build of apps/web (`next start`), as users get it. */
export async function startWebServer(
  env: Record<string, string>,
  fixedPort?: number,
): Promise<WebServer> {
  if (!existsSync(`${webDir}/.next/BUILD_ID`)) {
    throw new Error(
      "apps/web has no production build: run `npx turbo run build --filter=@irc-now/web` first",
    );
  }
  const port = fixedPort ?? (await freePort());
  const child: ChildProcess = spawn(
    process.execPath,
    [require_next(), "start", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: webDir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  return waitUntilServing(child, `http://127.0.0.1:${port}`, 60_000, () => undefined);
}

/**
 * `next dev` of apps/web, as a developer runs it (fast refresh, dev overlay, browser console
 * forwarded to the terminal), in its own build dir so it never touches `.next` or a
 * developer's own dev server. `output()` is what the developer's terminal would show.
 */
export async function startDevWebServer(
  env: Record<string, string>,
  fixedPort?: number,
): Promise<WebServer> {
  const port = fixedPort ?? (await freePort());
  // Next rewrites next-env.d.ts to point at the dev build dir: put the original back so
  // typechecks elsewhere keep working while (and after) this server runs.
  const nextEnvDts = `${webDir}/next-env.d.ts`;
  const originalNextEnv = existsSync(nextEnvDts) ? readFileSync(nextEnvDts, "utf8") : null;
  const restoreNextEnv = () => {
    if (originalNextEnv !== null && readFileSync(nextEnvDts, "utf8") !== originalNextEnv)
      writeFileSync(nextEnvDts, originalNextEnv);
  };
  const child: ChildProcess = spawn(
    process.execPath,
    [require_next(), "dev", "-p", String(port), "-H", "127.0.0.1"],
    {
      cwd: webDir,
      env: {
        PATH: process.env.PATH ?? "",
        NEXT_TELEMETRY_DISABLED: "1",
        // Inside test-results/: ignored by git, ESLint, Prettier and the web's tsconfig.
        NEXT_DIST_DIR: DEV_DIST_DIR,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  return waitUntilServing(child, `http://127.0.0.1:${port}`, 180_000, restoreNextEnv);
}

/** The dev server's build dir, relative to apps/web. */
export const DEV_DIST_DIR = "test-results/next-dev";

async function waitUntilServing(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
  afterStart: () => void,
): Promise<WebServer> {
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }
    afterStart();
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next exited early:\n${output}`);
    const ok = await fetch(`${url}/`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`next did not answer within ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  afterStart();
  return { url, output: () => output, stop };
}

function require_next(): string {
  return fileURLToPath(import.meta.resolve("next/dist/bin/next", `file://${webDir}/`));
}
