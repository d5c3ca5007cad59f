// `npm run audit`: known vulnerabilities (high or critical) in what ships (`--omit=dev`) fail
// the run. A registry that does not serve npm's audit endpoint (mirrors and proxies answer
// 404/405) is reported as a skip, not a pass, and does not fail the run.
import { spawnSync } from "node:child_process";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], {
  encoding: "utf8",
  maxBuffer: 64 * 1024 * 1024,
});
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`npm audit gave no report (exit ${run.status}): ${run.stderr.trim()}`);
  process.exit(1);
}
if (report.statusCode || report.error) {
  const why = report.message ?? report.error?.summary ?? "no audit endpoint";
  console.log(`npm audit SKIPPED: the registry does not serve audits (${why})`);
  process.exit(0);
}
const counts = report.metadata?.vulnerabilities ?? {};
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
console.log(
  `npm audit (production dependencies): ${Object.entries(counts)
    .map(([level, n]) => `${level} ${n}`)
    .join(", ")}`,
);
for (const [name, v] of Object.entries(report.vulnerabilities ?? {}))
  if (v.severity === "high" || v.severity === "critical")
    console.error(`  ${v.severity}: ${name} (${v.range ?? "?"})`);
process.exitCode = serious > 0 ? 1 : 0;
