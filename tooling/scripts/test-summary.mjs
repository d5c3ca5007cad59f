// Sums every package's Vitest JSON report into one closing line: "N passed, N failed".
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const roots = ["apps", "packages", "tooling"];
let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const root of roots) {
  if (!existsSync(root)) continue;
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, "test-results", "vitest.json");
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    rows.push(
      `  ${join(root, dir).padEnd(20)} ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
    );
  }
}
console.log(["", "Test summary:", ...rows].join("\n"));
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
