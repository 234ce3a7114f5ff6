// Provider artifacts: the two layouts dstream reads (DESIGN.md), the one it pushes, and inspect.
export {
  type Descriptor,
  type PlatformBinary,
  type ProviderArtifact,
  readArtifact,
} from "./artifact.ts";
export { type Inspection, inspectProvider } from "./inspect.ts";
export { type PlatformFile, type PushOptions, type PushResult, pushProvider } from "./push.ts";
