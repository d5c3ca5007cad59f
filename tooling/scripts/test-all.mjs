// `npm test`: every stage runs even when an earlier one fails (a failing unit test must not hide
// the browser tests' result), then one summary: each stage's outcome and the test counts.
import { spawnSync } from "node:child_process";
import { rmSync, readdirSync } from "node:fs";
import { join } from "node:path";

for (const d of ["apps", "packages", "tooling"])
  for (const p of readdirSync(d))
    rmSync(join(d, p, "test-results", "vitest.json"), { force: true });

const stages = [
  ["lint", "npm", ["run", "lint"]],
  [
    "typecheck and package tests",
    "npx",
    ["turbo", "run", "typecheck", "test", "--env-mode=loose", "--concurrency=2", "--continue"],
  ],
  ["browser tests", "npx", ["turbo", "run", "test:e2e", "--env-mode=loose"]],
];
const results = [];
for (const [name, command, args] of stages) {
  const started = Date.now();
  const { status } = spawnSync(command, args, { stdio: "inherit" });
  results.push({ name, ok: status === 0, seconds: Math.round((Date.now() - started) / 1000) });
}
const summary = spawnSync("node", ["tooling/scripts/test-summary.mjs"], { stdio: "inherit" });
console.log("\nStages:");
for (const r of results) console.log(`  ${r.ok ? "ok    " : "FAILED"} ${r.name} (${r.seconds} s)`);
process.exitCode = results.every((r) => r.ok) && summary.status === 0 ? 0 : 1;
