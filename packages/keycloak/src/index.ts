export * from "./user-state";
