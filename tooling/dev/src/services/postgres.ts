import { migrateAccounts } from "@irc-now/db/migrate";
import { startEmbeddedPostgres } from "@irc-now/db/testing";
import type { LocalService } from "../stack";

/** Embedded PostgreSQL with the accounts DB migrated, unless DATABASE_URL names a real one. */
export const postgresService: LocalService = {
  name: "postgres",
  async start(env) {
    if (env.DATABASE_URL) {
      await migrateAccounts(env.DATABASE_URL);
      return {
        info: ["using DATABASE_URL from the environment (migrated)"],
        stop: async () => undefined,
      };
    }
    const pg = await startEmbeddedPostgres({ handleSignals: false });
    const databaseUrl = await pg.createDatabase("accounts");
    await migrateAccounts(databaseUrl);
    return {
      env: { DATABASE_URL: databaseUrl, DEV_POSTGRES_URL: pg.url() },
      info: [
        `embedded PostgreSQL on 127.0.0.1:${pg.port} (data in ${pg.dir}, thrown away on exit)`,
        `psql ${databaseUrl}`,
      ],
      stop: () => pg.stop(),
    };
  },
};
