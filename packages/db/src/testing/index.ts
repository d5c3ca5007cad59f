// Test and dev helpers. Production code never imports this entry point.
export {
  freePort,
  startEmbeddedPostgres,
  type EmbeddedPg,
  type StartOptions,
} from "./embedded-postgres";
export { createSojuSchemaForTests } from "./soju-schema";
export { createTestDatabase } from "./databases";
// Brings the `inject("postgresUrl")` typing of the shared vitest globalSetup into every importer.
export type {} from "./global-setup";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy";
