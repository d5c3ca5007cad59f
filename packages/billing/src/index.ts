export * from "./apply";
export * from "./plan-rules";
