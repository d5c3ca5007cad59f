// `npm run test:peers`: the suites that run against the REAL ergo 2.15, soju 0.10.1 and
// kube-apiserver 1.24 of the peers kit (../shared/peers next to the repository, or PEERS_KIT).
// Each suite is one `vitest run --config <its peers config>` with REAL_PEERS=1, one after the
// other (the machine may have 2 cores); every suite runs even when an earlier one failed. Ends with
// one summary line per suite and a total, and exits non-zero when anything failed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const given = process.env.PEERS_KIT;
const kit = given
  ? isAbsolute(given)
    ? given
    : resolve(root, given)
  : resolve(root, "../shared/peers");

const suites = [
  ["tooling/peers", "vitest.peers.config.ts", "helpers, teardown, end to end"],
  ["packages/ergo", "test/peers.config.ts", "ErgoAdmin contract"],
  [
    "packages/soju",
    "test/peers.config.ts",
    "SojuAdmin contract (socket, sql-restart; exec script on real sojuctl)",
  ],
  ["tooling/standins", "test/ergo/peers.config.ts", "ergo stand-in pins, on real ergo"],
  ["tooling/standins", "test/soju/peers.config.ts", "soju stand-in pins, on real soju"],
  ["apps/worker", "test/peers.config.ts", "worker setups"],
].filter(([dir, config]) => existsSync(join(root, dir, config)));

if (!["ergo.sh", "soju.sh", "sojuctl.sh", "kube.sh"].every((s) => existsSync(join(kit, s)))) {
  console.error(`test:peers: no peers kit at ${kit} (set PEERS_KIT to its folder)`);
  process.exit(1);
}

const vitest = join(root, "node_modules", ".bin", "vitest");
const started = Date.now();
const rows = [];
let passed = 0;
let failed = 0;
let skipped = 0;
let broken = false;
for (const [dir, config, what] of suites) {
  const report = join("test-results", `peers-${config.replace(/[^a-z0-9]+/gi, "-")}.json`);
  rmSync(join(root, dir, report), { force: true });
  console.log(`\n== ${dir} (${what}) ==`);
  const t0 = Date.now();
  const run = spawnSync(
    vitest,
    [
      "run",
      "--config",
      config,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${report}`,
    ],
    {
      cwd: join(root, dir),
      stdio: "inherit",
      env: { ...process.env, REAL_PEERS: "1", PEERS_KIT: kit },
    },
  );
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  let counts = null;
  try {
    counts = JSON.parse(readFileSync(join(root, dir, report), "utf8"));
  } catch {
    // no report: vitest did not get to run the tests (e.g. the globalSetup failed)
  }
  if (!counts || run.status !== 0) broken = true;
  const p = counts?.numPassedTests ?? 0;
  const f = counts?.numFailedTests ?? 0;
  const s = (counts?.numPendingTests ?? 0) + (counts?.numTodoTests ?? 0);
  passed += p;
  failed += f;
  skipped += s;
  rows.push(
    `  ${`${dir} ${what}`.padEnd(64)} ${p} passed, ${f} failed${s ? `, ${s} skipped` : ""}` +
      `${counts ? "" : " (no report)"}${run.status !== 0 ? ` [exit ${run.status}]` : ""}  ${seconds} s`,
  );
}
const total = ((Date.now() - started) / 1000).toFixed(1);
console.log(["", `test:peers against ${kit}:`, ...rows].join("\n"));
console.log(
  `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""} in ${total} s`,
);
process.exit(broken || failed > 0 || passed === 0 ? 1 : 0);
