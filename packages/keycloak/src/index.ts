export * from "./admin";
export * from "./user-state";
