import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The web server's node flags are tuned for its allocation pattern (issue 17). `npm run
// bench:web` starts `next start` with apps/web/node-options.json; the image must run with the
// same, or the benchmark measures a server nobody deploys.
const web = fileURLToPath(new URL("..", import.meta.url));
const repo = join(web, "..", "..");
const { NODE_OPTIONS } = JSON.parse(readFileSync(join(web, "node-options.json"), "utf8")) as {
  NODE_OPTIONS: string;
};

/** The NODE_OPTIONS the image's final stage sets (the stage the container runs). */
function imageNodeOptions(dockerfile: string): string | undefined {
  const stages = dockerfile.split(/^FROM /m);
  const runtime = stages[stages.length - 1]!;
  const env = [...runtime.matchAll(/^ENV\s+(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  const set = env.filter((kv) => kv.startsWith("NODE_OPTIONS="));
  return set.length ? set[set.length - 1]!.slice("NODE_OPTIONS=".length) : undefined;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

describe("the web's node flags", () => {
  it("are a young-generation size the bench and the image share", () => {
    expect(NODE_OPTIONS).toMatch(/^--max-semi-space-size=\d+$/);
    expect(imageNodeOptions(readFileSync(join(web, "Dockerfile"), "utf8"))).toBe(NODE_OPTIONS);
  });

  it("are not overridden by the deploy manifests", () => {
    const overriding = yamlFiles(join(repo, "deploy")).filter((path) =>
      readFileSync(path, "utf8").includes("NODE_OPTIONS"),
    );
    expect(overriding).toEqual([]);
  });

  it("reads a Dockerfile's final stage only", () => {
    const dockerfile = [
      "FROM node AS build",
      "ENV NODE_OPTIONS=--max-old-space-size=4096",
      "FROM node",
      "ENV A=1 NODE_OPTIONS=--max-semi-space-size=8",
    ].join("\n");
    expect(imageNodeOptions(dockerfile)).toBe("--max-semi-space-size=8");
    expect(imageNodeOptions("FROM node AS b\nENV NODE_OPTIONS=x\nFROM node\n")).toBeUndefined();
  });
});
