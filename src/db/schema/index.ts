export * from "./api-tokens.js";
export * from "./audit.js";
