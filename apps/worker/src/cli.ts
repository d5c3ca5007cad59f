import { ConfigError } from "@irc-now/config";
import { isConfigured, isDeleting, isReady } from "@irc-now/k8s";
import { and, desc, eq, inArray } from "drizzle-orm";
import { accounts } from "@irc-now/db";
import { applyAdoptions, planAdoptions } from "./bouncers/adopt-existing";
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
  adopt-existing [--apply]
                  migration to owned ergo accounts: lists the ergo accounts of existing
                  bouncers that the portal can prove it set up (ergo accepts a credential
                  the portal holds) and, with --apply, records them as owned (audited).
                  Without --apply nothing is written.

Uses the same environment as the worker (DATABASE_URL, KUBECONFIG, ERGO_*, SOJU_*, …).`;

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  if (
    !command ||
    command === "-h" ||
    command === "--help" ||
    !["setup", "verify", "status", "adopt-existing"].includes(command)
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
      if (result.outcome === "busy") {
        console.error(`✗ ${name}: another setup of this bouncer is running (try again shortly)`);
        return 1;
      }
      if (result.outcome === "succeeded") {
        console.log(
          `✓ ${name}: authenticated on irc.now (attempt ${result.attemptNo}, password ${result.passwordSource}, ergo account ${result.ergo})`,
        );
        return 0;
      }
      console.error(
        `✗ ${name}: ${result.outcome === "needs_admin" ? "needs an admin" : "failed"} at ${result.step}: ${result.error}`,
      );
      return 1;
    }
    if (command === "adopt-existing") {
      const apply = argv.includes("--apply");
      const plan = await planAdoptions(w.deps);
      printTable(
        ["ACCOUNT", "OWNER", "BOUNCERS", "ACTION", "WHY"],
        plan.map((r) => [
          r.account,
          r.ownerUserId ?? "-",
          r.bouncers.join(","),
          r.action,
          r.reason,
        ]),
      );
      const toAdopt = plan.filter((r) => r.action === "adopt").length;
      if (!apply) {
        console.log(
          `\ndry run: ${toAdopt} account(s) would be adopted. Run again with --apply to record them.`,
        );
        return 0;
      }
      const adopted = await applyAdoptions(w.db, config.K8S_NAMESPACE, plan);
      console.log(
        `\nadopted ${adopted.length} account(s)${adopted.length ? `: ${adopted.join(", ")}` : ""}`,
      );
      return 0;
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
    // status: this namespace only; each bouncer's own history (its CR uid), newest attempt
    const { items } = await w.bouncers.list();
    const uids = items.map((b) => b.metadata.uid ?? "");
    const s = accounts.bouncerUpstreamStates;
    const a = accounts.bouncerSetupAttempts;
    const states = uids.length
      ? await w.db
          .select()
          .from(s)
          .where(and(eq(s.namespace, config.K8S_NAMESPACE), inArray(s.bouncerUid, uids)))
      : [];
    const attempts = uids.length
      ? await w.db
          .selectDistinctOn([a.bouncerUid])
          .from(a)
          .where(and(eq(a.namespace, config.K8S_NAMESPACE), inArray(a.bouncerUid, uids)))
          .orderBy(a.bouncerUid, desc(a.attemptNo))
      : [];
    const rows = items
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((b) => {
        const state = states.find((x) => x.bouncerUid === b.metadata.uid);
        const last = attempts.find((x) => x.bouncerUid === b.metadata.uid);
        return {
          name: b.metadata.name,
          user: b.spec.username,
          ready: isDeleting(b) ? "deleting" : isReady(b) ? "yes" : "no",
          configured: isConfigured(b) ? "yes" : "no",
          upstream: state ? `${state.state}${state.account ? ` (${state.account})` : ""}` : "-",
          lastAttempt: last ? `#${last.attemptNo} ${last.outcome} at ${last.stepReached}` : "-",
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
