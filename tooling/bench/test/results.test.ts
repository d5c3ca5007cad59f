import { execFileSync } from "node:child_process";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, resultsPath } from "../src/lib/results";

describe("benchmark results", () => {
  it("a run writes where git ignores it, never over the committed snapshots", () => {
    for (const name of ["web", "worker"]) {
      const path = relative(repoRoot, resultsPath(name));
      expect(path).not.toMatch(/^bench\/results\//);
      // exits 0 (and prints the path) only when the path is ignored
      expect(execFileSync("git", ["check-ignore", path], { cwd: repoRoot }).toString().trim()).toBe(
        path,
      );
    }
  });
});
