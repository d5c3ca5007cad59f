import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePort } from "./kit";

const webDir = fileURLToPath(new URL("../../../apps/web", import.meta.url));

/** The command that makes the production build `startWebProduction` serves. */
export const WEB_BUILD_COMMAND = "npx turbo run build --filter=@irc-now/web";

export interface WebProduction {
  url: string;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * The web's production build (`next start` on apps/web/.next), as production serves it. Ready
 * once `readyPath` answers at all (any status: the page itself may need peers we do not start).
 * Fails, never skips, when there is no build.
 */
export async function startWebProduction(
  env: Record<string, string>,
  readyPath: string,
  readyInit: RequestInit = {},
): Promise<WebProduction> {
  if (!existsSync(`${webDir}/.next/BUILD_ID`))
    throw new Error(
      `apps/web has no production build (.next/BUILD_ID): run \`${WEB_BUILD_COMMAND}\``,
    );
  const port = await freePort();
  const next = fileURLToPath(import.meta.resolve("next/dist/bin/next", `file://${webDir}/`));
  const child = spawn(process.execPath, [next, "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: webDir,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so stop() ends next and anything it spawned.
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited early:\n${output}`);
    const answered = await fetch(url + readyPath, readyInit).then(
      () => true,
      () => false,
    );
    if (answered) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`next start did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, port, output: () => output, stop };
}
