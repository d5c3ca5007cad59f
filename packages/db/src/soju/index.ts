export * from "./schema";
export { closeSojuDb, createSojuDb, type SojuDb } from "./client";
