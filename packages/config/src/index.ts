export { ConfigError, defineArea, loadConfig, type Area, type ConfigOf } from "./define";
export * from "./areas";
