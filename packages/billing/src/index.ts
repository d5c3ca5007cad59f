export * from "./apply";
export * from "./plan-rules";
export * from "./stripe-client";
