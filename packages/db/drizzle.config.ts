import { defineConfig } from "drizzle-kit";

// Only the accounts DB has migrations: soju owns its own schema.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/accounts/schema.ts",
  out: "./migrations/accounts",
  casing: "snake_case",
});
