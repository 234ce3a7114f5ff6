// dstream providers lock: pins every provider_ref of the config (all platforms) without downloading
// binaries; refs already locked stay as they are unless upgrade is set; refs no longer used go.

import type { ProviderReference } from "../../oci/index.ts";
import { type Env, RegistryClient } from "../client/index.ts";
import { fetchLockEntry } from "./lock-entry.ts";
import { type LockedProvider, readLockFile, updateLockFile } from "./lock-file.ts";

export interface LockOptions {
  lockFilePath: string;
  upgrade?: boolean;
  env?: Env;
}

export interface LockChange {
  reference: string;
  digest: string;
  platforms: string[];
  change: "added" | "updated" | "unchanged";
}

export async function lockProviderRefs(
  references: ProviderReference[],
  options: LockOptions,
): Promise<LockChange[]> {
  const env = options.env ?? process.env;
  const before = await readLockFile(options.lockFilePath);
  // A config without provider_ref gets no lock file.
  if (references.length === 0 && before.size === 0) return [];
  const after = new Map<string, LockedProvider>();
  const changes: LockChange[] = [];
  for (const reference of references) {
    const key = reference.original;
    if (after.has(key)) continue;
    const old = before.get(key);
    const entry =
      old && !options.upgrade
        ? old
        : await fetchLockEntry(new RegistryClient(reference, { env }), reference);
    after.set(key, entry);
    const change = !old ? "added" : old.digest === entry.digest ? "unchanged" : "updated";
    changes.push({
      reference: key,
      digest: entry.digest,
      platforms: Object.keys(entry.platforms).sort(),
      change,
    });
  }
  // The config's refs replace the file's entries (refs no longer used go), under the writers' lock.
  await updateLockFile(options.lockFilePath, (providers) => {
    providers.clear();
    for (const [key, entry] of after) providers.set(key, entry);
  });
  return changes;
}
