/**
 * kubectl for the deploy tests: KUBECTL, else `kubectl` on the PATH, else the copy
 * scripts/ensure-kubectl.sh puts in node_modules/.cache (Debian's own kubernetes-client is 1.20,
 * too old for `kubectl create token` and today's kustomize). Needs 1.24 or newer.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const CACHED_KUBECTL = join(REPO_ROOT, "node_modules/.cache/irc-now-kubectl/kubectl");

function minorOf(bin: string): number | null {
  const run = spawnSync(bin, ["version", "--client", "-o", "json"], { encoding: "utf8" });
  if (run.status !== 0) return null;
  try {
    const v = JSON.parse(run.stdout) as { clientVersion?: { major?: string; minor?: string } };
    return v.clientVersion?.major === "1" ? parseInt(v.clientVersion.minor ?? "", 10) : null;
  } catch {
    return null;
  }
}

let found: string | undefined;
/** The kubectl to use, or an error that says how to get one. */
export function kubectlBin(): string {
  if (found) return found;
  const candidates = [
    process.env.KUBECTL,
    ...(process.env.PATH ?? "").split(delimiter).map((d) => d && join(d, "kubectl")),
    CACHED_KUBECTL,
  ].filter((c): c is string => !!c && existsSync(c));
  for (const c of candidates) {
    const minor = minorOf(c);
    if (minor !== null && minor >= 24) return (found = c);
  }
  // Like the browser tests' Chromium: fetch it once when missing (it says what it does).
  if (!process.env.KUBECTL && !existsSync(CACHED_KUBECTL)) {
    const ensure = spawnSync(
      "bash",
      [join(REPO_ROOT, "tooling/deploy-test/scripts/ensure-kubectl.sh")],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    if (ensure.status === 0 && minorOf(CACHED_KUBECTL) !== null) return (found = CACHED_KUBECTL);
  }
  throw new Error(
    "no kubectl ≥ 1.24: run tooling/deploy-test/scripts/ensure-kubectl.sh (or set KUBECTL)",
  );
}

export interface KubectlOptions {
  input?: string;
  env?: Record<string, string>;
}

/** Runs kubectl; throws with its stderr (which never holds a token: they go in kubeconfigs). */
export function kubectl(args: string[], options: KubectlOptions = {}): string {
  try {
    return execFileSync(kubectlBin(), args, {
      encoding: "utf8",
      input: options.input,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stderr?: string; status?: number };
    throw new Error(`kubectl ${args[0]} ${args[1] ?? ""} failed (${e.status}): ${e.stderr ?? ""}`);
  }
}
