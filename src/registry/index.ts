// The registry layer's public face: resolve provider_ref to a verified binary, lock, push, inspect.
export { type CachedProvider, defaultCacheDir, listCachedProviders } from "./cache.ts";
export type { ProgressEvent } from "./download.ts";
export { type Inspection, inspectProvider } from "./inspect.ts";
export { type LockChange, type LockOptions, lockProviderRefs } from "./lock.ts";
export { formatPlatform, hostPlatform, type Platform } from "./platform.ts";
export { stderrProgressBar } from "./progress-bar.ts";
export { type PlatformFile, type PushOptions, type PushResult, pushProvider } from "./push.ts";
export { type ProviderReference, parseReference } from "./reference.ts";
export { type ResolvedProvider, type ResolveOptions, resolveProviderRef } from "./resolve.ts";
