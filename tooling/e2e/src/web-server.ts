import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
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
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
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
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`next start exited early:\n${output}`);
    const ok = await fetch(`${url}/`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`next start did not answer within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, output: () => output, stop };
}

function require_next(): string {
  return fileURLToPath(import.meta.resolve("next/dist/bin/next", `file://${webDir}/`));
}
