// Shared by runtime, providers and sdk: protocol messages and the built-in provider names.
export * from "./builtins.ts";
export * from "./checkpoint.ts";
export * from "./messages.ts";
