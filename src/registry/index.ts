// The registry layer's public face: resolve provider_ref to a verified binary, lock, push, inspect.
// Its rooms: client/ (OCI distribution over HTTP), artifact/ (provider layouts, push, inspect),
// store/ (the verified cache and downloads), lock/ (dstream.lock.hcl).
export {
  type Inspection,
  inspectProvider,
  type PlatformFile,
  type PushOptions,
  type PushResult,
  pushProvider,
} from "./artifact/index.ts";
export { type LockChange, type LockOptions, lockProviderRefs } from "./lock/index.ts";
export { RegistryError, type Remedy } from "./remedy.ts";
export { type ResolvedProvider, type ResolveOptions, resolveProviderRef } from "./resolve.ts";
export { type CachedProvider, type DownloadEvent, listCachedProviders } from "./store/index.ts";
