import { ConfigError } from "@irc-now/config";
import { isConfigured, isDeleting, isReady } from "@irc-now/k8s";
import { inArray } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { runSetup } from "./bouncers/setup";
import { verifyBouncer } from "./bouncers/verifier";
import { loadWorkerConfig } from "./env";
import { createLogger } from "./logger";
import { wire } from "./wiring";

const usage = `usage: npm run worker -- <command>

  setup <name>    run upstream setup once for one bouncer, printing each step
                  (ignores the annotation: use it to repair a bouncer by hand)
  verify <name>   check, read-only, whether the bouncer is logged in to irc.now
  status          table of all bouncers: ready, configured, upstream state, last attempt

Uses the same environment as the worker (DATABASE_URL, KUBECONFIG, ERGO_*, SOJU_*, …).`;

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  if (
    !command ||
    command === "-h" ||
    command === "--help" ||
    !["setup", "verify", "status"].includes(command)
  ) {
    console.error(usage);
    return command === "-h" || command === "--help" ? 0 : 2;
  }
  if ((command === "setup" || command === "verify") && !name) {
    console.error(`${command} needs a bouncer name\n\n${usage}`);
    return 2;
  }
  const config = loadWorkerConfig();
  // The CLI prints its own progress; only warnings from the clients unless LOG_LEVEL asks for more.
  const log = createLogger(config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL, "worker-cli");
  const w = wire(config, log);
  try {
    if (command === "setup") {
      const bouncer = await w.bouncers.get(name!);
      if (!bouncer) {
        console.error(`no SojuBouncer "${name}" in namespace ${config.K8S_NAMESPACE}`);
        return 1;
      }
      if (!isReady(bouncer)) {
        console.error(
          `bouncer "${name}" is not Ready yet (the operator has not finished provisioning it)`,
        );
        return 1;
      }
      const result = await runSetup(
        { ...w.deps, onStep: (step) => console.log(`→ ${step}`) },
        bouncer,
      );
      if (result.outcome === "succeeded") {
        console.log(
          `✓ ${name}: authenticated on irc.now (attempt ${result.attemptNo}, password ${result.passwordSource}, ergo account ${result.ergo})`,
        );
        return 0;
      }
      console.error(`✗ ${name}: failed at ${result.step}: ${result.error}`);
      return 1;
    }
    if (command === "verify") {
      const bouncer = await w.bouncers.get(name!);
      if (!bouncer) {
        console.error(`no SojuBouncer "${name}" in namespace ${config.K8S_NAMESPACE}`);
        return 1;
      }
      const verdict = await verifyBouncer(
        { ...w.deps, network: config.SOJU_UPSTREAM_NETWORK },
        bouncer,
      );
      console.log(
        `${name}: ${verdict.state}${verdict.account ? ` as ${verdict.account}` : ""}${verdict.detail ? ` (${verdict.detail})` : ""}`,
      );
      return verdict.state === "authenticated" ? 0 : 1;
    }
    // status
    const { items } = await w.bouncers.list();
    const names = items.map((b) => b.metadata.name);
    const states = names.length
      ? await w.db
          .select()
          .from(accounts.bouncerUpstreamStates)
          .where(inArray(accounts.bouncerUpstreamStates.bouncer, names))
      : [];
    const attempts = names.length
      ? await w.db
          .selectDistinctOn([accounts.bouncerSetupAttempts.bouncer])
          .from(accounts.bouncerSetupAttempts)
          .where(inArray(accounts.bouncerSetupAttempts.bouncer, names))
          .orderBy(accounts.bouncerSetupAttempts.bouncer, accounts.bouncerSetupAttempts.attemptNo)
      : [];
    const rows = items
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((b) => {
        const s = states.find((x) => x.bouncer === b.metadata.name);
        const a = attempts.find((x) => x.bouncer === b.metadata.name);
        return {
          name: b.metadata.name,
          user: b.spec.username,
          ready: isDeleting(b) ? "deleting" : isReady(b) ? "yes" : "no",
          configured: isConfigured(b) ? "yes" : "no",
          upstream: s ? `${s.state}${s.account ? ` (${s.account})` : ""}` : "-",
          lastAttempt: a ? `#${a.attemptNo} ${a.outcome} at ${a.stepReached}` : "-",
        };
      });
    printTable(
      ["NAME", "USER", "READY", "CONFIGURED", "UPSTREAM", "LAST ATTEMPT"],
      rows.map((r) => [r.name, r.user, r.ready, r.configured, r.upstream, r.lastAttempt]),
    );
    return 0;
  } finally {
    await w.close();
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  if (rows.length === 0) console.log("(no bouncers)");
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(
      error instanceof ConfigError
        ? error.message
        : `error: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  });
