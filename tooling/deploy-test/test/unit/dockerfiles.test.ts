import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isPinned, parseDockerfile, type Stage } from "../../src/dockerfile";
import { REPO_ROOT } from "../../src/kubectl";

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

/** What each image's final stage may copy: the build output only, never the tree or node_modules. */
const images = {
  "apps/web/Dockerfile": [
    "/src/apps/web/.next/standalone/ ./",
    "/src/apps/web/.next/static/ ./apps/web/.next/static/",
  ],
  "apps/worker/Dockerfile": ["/src/apps/worker/dist/ ./dist/"],
};

function finalStage(path: string): Stage {
  return parseDockerfile(read(path)).at(-1)!;
}

describe("Dockerfiles", () => {
  for (const [path, allowedCopies] of Object.entries(images)) {
    describe(path, () => {
      const stages = parseDockerfile(read(path));
      const last = finalStage(path);

      it("is multi-stage, every base image pinned (node x.y.z-bookworm-slim or a digest)", () => {
        expect(stages.length).toBeGreaterThanOrEqual(2);
        for (const stage of stages) expect(stage.from, stage.from).toSatisfy(isPinned);
      });

      it("runs as a numeric non-root user", () => {
        const users = last.instructions.filter((i) => i.keyword === "USER");
        expect(users).toHaveLength(1);
        expect(users[0]!.args).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
        // Nothing runs after USER as another user, and nothing is installed in the final stage.
        expect(last.instructions.filter((i) => i.keyword === "RUN")).toEqual([]);
      });

      it("has no HEALTHCHECK (Kubernetes probes do it)", () => {
        for (const stage of stages)
          expect(stage.instructions.map((i) => i.keyword)).not.toContain("HEALTHCHECK");
      });

      it("copies only the bundle or standalone output from the build stage", () => {
        const copies = last.instructions.filter((i) => i.keyword === "COPY" || i.keyword === "ADD");
        expect(copies.map((c) => c.keyword)).not.toContain("ADD");
        const build = stages[0]!.name!;
        expect(copies.map((c) => c.args)).toEqual(
          allowedCopies.map((paths) => `--from=${build} ${paths}`),
        );
      });

      it("installs with npm ci and prunes dev dependencies in the build stage", () => {
        const runs = stages[0]!.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
        expect(runs.join(" ")).toMatch(/npm ci\b/);
        expect(runs.join(" ")).toMatch(/npm prune --omit=dev/);
      });
    });
  }

  it("the build context leaves out node_modules, build output, .git and env files", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of ["**/node_modules", "**/.next", "**/dist", ".git", ".env", ".env.*"])
      expect(ignored).toContain(entry);
  });

  it("the parser sees what a bad Dockerfile does (so the rules above can fail)", () => {
    const bad = parseDockerfile(
      "FROM node:20-bookworm-slim AS b\nRUN npm i\nFROM node:latest\nHEALTHCHECK CMD true\n" +
        "COPY . .\nUSER node\n",
    );
    expect(bad.map((s) => isPinned(s.from))).toEqual([false, false]);
    expect(bad[1]!.instructions.map((i) => i.keyword)).toEqual(["HEALTHCHECK", "COPY", "USER"]);
    expect(isPinned("node:20.20.2-bookworm-slim")).toBe(true);
    expect(isPinned(`node@sha256:${"a".repeat(64)}`)).toBe(true);
  });
});
