import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const env = {
  PATH: process.env.PATH ?? "",
  HOME: process.env.HOME ?? "/root",
  TURBO_TELEMETRY_DISABLED: "1",
};

/** Everything a command prints, stdout and stderr together. */
function run(command: string, args: string[], cwd = root): string {
  const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

describe("no noise in every run", () => {
  it("turbo finds no circular package dependency", () => {
    // (@irc-now/k8s's tests use the stand-ins, and the stand-ins serve @irc-now/k8s's CRD: the
    // stand-ins take it as a peer dependency, which turbo leaves out of the package graph.)
    const output = run("npx", ["turbo", "run", "typecheck", "--dry=json"]);
    expect(output).not.toMatch(/Circular package dependency/i);
  });

  it("loading the Keycloak stand-in prints no oidc-provider warning on any supported Node", () => {
    const output = run(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        'await import("@irc-now/standins/keycloak"); console.log("loaded")',
      ],
      `${root}tooling/dev`,
    );
    expect(output.trim()).toBe("loaded");
  });
});
