import { migrateAccounts } from "@irc-now/db/migrate";
import { startEmbeddedPostgres } from "@irc-now/db/testing";
import type { Cleanup } from "./cleanup";
import { findPid } from "./cpu";

/**
 * An embedded PostgreSQL (stopped by `cleanup`) with a migrated accounts DB, and the pid of
 * its postmaster, for CPU probes (null when it cannot be found).
 */
export async function startAccountsDb(
  cleanup: Cleanup,
): Promise<{ databaseUrl: string; postmaster: number | null }> {
  const pg = await startEmbeddedPostgres({ handleSignals: false });
  cleanup.add("postgres", () => pg.stop());
  const postmaster = findPid(
    (argv) =>
      /(^|\/)postgres$/.test(argv[0] ?? "") &&
      argv.includes("-p") &&
      argv.includes(String(pg.port)),
  );
  const databaseUrl = await pg.createDatabase("accounts");
  await migrateAccounts(databaseUrl);
  return { databaseUrl, postmaster };
}
