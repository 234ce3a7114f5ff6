// The content store: verified executables by digest in the cache folder, downloaded with their
// digest checked while they stream, and the records `providers ls` lists.
export {
  blobPath,
  type CachedProvider,
  isCached,
  listCachedProviders,
  recordCachedProvider,
  verifyCachedBlob,
} from "./cache.ts";
export { type DownloadEvent, downloadBlob } from "./download.ts";
