// The config layer's public face: find and load dstream.hcl into typed tasks.
export type { ConfigLocation } from "./discover.ts";
export { findConfigFile } from "./discover.ts";
export type {
  LoadedConfig,
  LoadedTask,
  LoadOptions,
  ProviderSource,
  ProviderSpec,
  Task,
  TaskListing,
} from "./load.ts";
export { listTasks, loadConfig, loadTask, parseConfig } from "./load.ts";
export type { StateSettings } from "./state-block.ts";
export type { JsonValue } from "./values.ts";
