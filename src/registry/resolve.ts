// resolveProviderRef: provider_ref -> a verified executable in the cache for this host, pinned by the
// lock file. A locked ref whose binary is cached does no network I/O at all.
import { basename } from "node:path";
import { defaultCacheDir } from "../cache-dir.ts";
import { formatPlatform, hostPlatform, type ProviderReference } from "../oci/index.ts";
import { RegistryClient } from "./client/index.ts";
import {
  fetchLockEntry,
  type LockedPlatform,
  type LockedProvider,
  readLockFile,
  updateLockFile,
} from "./lock/index.ts";
import { RegistryError } from "./remedy.ts";
import {
  blobPath,
  type DownloadEvent,
  downloadBlob,
  isCached,
  recordCachedProvider,
  verifyCachedBlob,
} from "./store/index.ts";

export interface ResolveOptions {
  /** dstream.lock.hcl beside the config file. */
  lockFilePath: string;
  /** Default: DSTREAM_CACHE_DIR, else the platform's cache folder. */
  cacheDir?: string;
  /** Re-resolve tags even when locked. */
  upgrade?: boolean;
  /**
   * Hash a cached binary again before trusting it, and download it afresh when it no longer matches
   * (`providers pull`). Runs skip this: they trust the cache, which only ever holds verified files.
   */
  verifyCache?: boolean;
  env?: Record<string, string | undefined>;
  /** Told how a download goes, to show it; nothing is drawn here. */
  onDownload?: (event: DownloadEvent) => void;
}

export interface ResolvedProvider {
  /** A verified, executable file in the cache. */
  path: string;
  /** The digest of that file (sha256, or sha512 when the artifact says so). */
  digest: string;
  /** verifyCache found the cached file corrupt and replaced it. */
  replacedCorrupt?: boolean;
}

/** A lock entry of a tag can be re-resolved; one of a digest reference pins what the user wrote. */
function pinnedByLock(reference: ProviderReference, locked: boolean): boolean {
  return locked && reference.digest === undefined;
}

function noBinaryError(
  reference: ProviderReference,
  entry: LockedProvider,
  platform: string,
  lockFile: string | undefined,
): RegistryError {
  const available = Object.keys(entry.platforms).join(", ") || "none";
  return lockFile
    ? new RegistryError(
        "REGISTRY",
        `${reference.original}: ${lockFile} pins ${entry.digest}, which has no binary for this machine's platform ${platform} (available: ${available})`,
        { kind: "re-resolve", condition: "if the tag has one now" },
      )
    : new RegistryError(
        "REGISTRY",
        `${reference.original} has no binary for this machine's platform ${platform} (available: ${available})`,
        { kind: "push-platform", platform },
      );
}

/** Downloads the binary unless a good copy is cached; answers whether a corrupt copy was replaced. */
async function fetchBinary(
  reference: ProviderReference,
  binary: LockedPlatform,
  context: {
    options: ResolveOptions;
    cacheDir: string;
    platform: string;
    client: () => RegistryClient;
    lockFile: string | undefined;
  },
): Promise<{ replacedCorrupt: boolean }> {
  const { options, cacheDir, platform } = context;
  const state = options.verifyCache
    ? await verifyCachedBlob(cacheDir, binary.digest, binary.size)
    : (await isCached(cacheDir, binary.digest, binary.size))
      ? "valid"
      : "missing";
  if (state === "valid") return { replacedCorrupt: false };
  const client = context.client();
  await downloadBlob({
    client,
    descriptor: binary,
    cacheDir,
    platform,
    ...(options.onDownload ? { onEvent: options.onDownload } : {}),
    ...(context.lockFile
      ? {
          notFound: new RegistryError(
            "REGISTRY",
            `the ${platform} binary ${binary.digest} that ${context.lockFile} pins for ${reference.original} is not in registry ${client.registry} (404): the artifact was deleted or the tag re-pushed`,
            { kind: "re-resolve" },
          ),
        }
      : {}),
  });
  return { replacedCorrupt: state === "corrupt" };
}

export async function resolveProviderRef(
  reference: ProviderReference,
  options: ResolveOptions,
): Promise<ResolvedProvider> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const platform = formatPlatform(hostPlatform());
  const key = reference.original;
  let client: RegistryClient | undefined;
  const connect = () => {
    client ??= new RegistryClient(reference, { env });
    return client;
  };
  const locked = options.upgrade ? undefined : (await readLockFile(options.lockFilePath)).get(key);
  const entry = locked ?? (await fetchLockEntry(connect(), reference));
  const lockFile = pinnedByLock(reference, locked !== undefined)
    ? basename(options.lockFilePath)
    : undefined;
  const binary = entry.platforms[platform];
  if (!binary) throw noBinaryError(reference, entry, platform, lockFile);
  const { replacedCorrupt } = await fetchBinary(reference, binary, {
    options,
    cacheDir,
    platform,
    client: connect,
    lockFile,
  });
  // Pinned only once the binary is verified: a failed resolution leaves the lock file as it was.
  if (!locked) await updateLockFile(options.lockFilePath, (providers) => providers.set(key, entry));
  await recordCachedProvider(cacheDir, {
    reference: key,
    platform,
    artifactDigest: entry.digest,
    digest: binary.digest,
    size: binary.size,
    pulledAt: new Date().toISOString(),
  });
  return {
    path: blobPath(cacheDir, binary.digest),
    digest: binary.digest,
    ...(replacedCorrupt ? { replacedCorrupt } : {}),
  };
}
