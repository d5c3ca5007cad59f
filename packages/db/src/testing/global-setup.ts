import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "./embedded-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the `postgres` database on the suite's embedded server (create your own DBs). */
    postgresUrl: string;
  }
}

/** Vitest globalSetup: one real PostgreSQL per test run, always stopped at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres();
  project.provide("postgresUrl", server.url());
  return () => server.stop();
}
