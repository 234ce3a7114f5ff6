// The TypeScript provider SDK: define an input or an output, then run it over protocol v1 or v2.
export type { Envelope } from "../protocol/index.ts";
export { Batch, BatchLineError } from "./batch.ts";
export { Checkpoint, type CheckpointCadence } from "./checkpoint.ts";
export { configObject, describeIssues } from "./config.ts";
export { defineInput, defineOutput, type InputProvider, type OutputProvider } from "./define.ts";
export { FileRange } from "./file-range.ts";
export { runProvider, serve } from "./run-provider.ts";
export type { StdoutWriter } from "./stdout-writer.ts";
export type {
  BatchLimits,
  ConfigOf,
  ConfigSchema,
  InputDefinition,
  InputEvent,
  InputItem,
  LifecycleOutcome,
  OutputDefinition,
  OutputSink,
  ProviderContext,
} from "./types.ts";
