export * from "./plan-rules";
