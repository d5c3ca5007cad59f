import "server-only";
import { dbConfig } from "~/env";
import { bouncerChangeFeed, type BouncerChangeFeed } from "./bouncer-changes";

// One LISTEN connection per server process; survives Next's dev-mode module reloads.
const globalForFeed = globalThis as unknown as { bouncerChangeFeed?: BouncerChangeFeed };

export function liveFeed(): BouncerChangeFeed {
  globalForFeed.bouncerChangeFeed ??= bouncerChangeFeed(dbConfig().DATABASE_URL);
  return globalForFeed.bouncerChangeFeed;
}
