// dstream.lock.hcl: reading and writing it (one writer at a time), and `providers lock`.
export { fetchLockEntry } from "./lock-entry.ts";
export {
  type LockedPlatform,
  type LockedProvider,
  readLockFile,
  updateLockFile,
} from "./lock-file.ts";
export { type LockChange, type LockOptions, lockProviderRefs } from "./lock-refs.ts";
