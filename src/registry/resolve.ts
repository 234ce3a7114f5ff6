// resolveProviderRef: provider_ref -> a verified executable in the cache for this host, pinned by the
// lock file. A locked ref whose binary is cached does no network I/O at all.
import { basename } from "node:path";
import { DstreamError } from "../errors.ts";
import { type ProviderArtifact, readArtifact } from "./artifact.ts";
import {
  blobPath,
  defaultCacheDir,
  isCached,
  recordCachedProvider,
  verifyCachedBlob,
} from "./cache.ts";
import { RegistryClient } from "./client.ts";
import { downloadBlob, type ProgressEvent } from "./download.ts";
import {
  type LockedPlatform,
  type LockedProvider,
  readLockFile,
  updateLockFile,
} from "./lock-file.ts";
import { formatPlatform, hostPlatform } from "./platform.ts";
import { stderrProgressBar } from "./progress-bar.ts";
import type { ProviderReference } from "./reference.ts";

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
  /** Default: a progress bar on stderr when it is a terminal. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface ResolvedProvider {
  /** A verified, executable file in the cache. */
  path: string;
  /** The digest of that file (sha256, or sha512 when the artifact says so). */
  digest: string;
  /** verifyCache found the cached file corrupt and replaced it. */
  replacedCorrupt?: boolean;
}

export function lockEntryFor(artifact: ProviderArtifact): LockedProvider {
  const platforms: LockedProvider["platforms"] = {};
  for (const entry of artifact.platforms) {
    platforms[entry.platform] = { digest: entry.binary.digest, size: entry.binary.size };
  }
  return { digest: artifact.digest, platforms };
}

/** Fetches what a reference names now (its digest if it has one, else its tag). */
export async function fetchLockEntry(
  client: RegistryClient,
  reference: ProviderReference,
): Promise<LockedProvider> {
  const artifact = await readArtifact(client, reference.digest ?? reference.tag ?? "latest");
  if (artifact.platforms.length === 0) {
    throw new DstreamError(
      "REGISTRY",
      `${reference.original} (${artifact.digest}) holds no provider binary: expected an image index with platform manifests, or layers titled plugin.<os>_<arch> or provider.<os>-<arch>`,
    );
  }
  return lockEntryFor(artifact);
}

const upgradeAdvice =
  "run again with --upgrade (or dstream providers lock --upgrade) to re-resolve the tag";

/** A lock entry of a tag can be re-resolved; one of a digest reference pins what the user wrote. */
function pinnedByLock(reference: ProviderReference, locked: boolean): boolean {
  return locked && reference.digest === undefined;
}

function noBinaryError(
  reference: ProviderReference,
  entry: LockedProvider,
  platform: string,
  lockFile: string | undefined,
): DstreamError {
  const available = Object.keys(entry.platforms).join(", ") || "none";
  const message = lockFile
    ? `${reference.original}: ${lockFile} pins ${entry.digest}, which has no binary for this machine's platform ${platform} (available: ${available}); if the tag has one now, ${upgradeAdvice}`
    : `${reference.original} has no binary for this machine's platform ${platform} (available: ${available}); push one with dstream providers push --platform ${platform}=<file>`;
  return new DstreamError("REGISTRY", message);
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
  const bar = options.onProgress ? undefined : stderrProgressBar(`pulling ${reference.original}`);
  const onProgress = options.onProgress ?? bar?.update;
  try {
    await downloadBlob({
      client,
      descriptor: binary,
      cacheDir,
      platform,
      ...(onProgress ? { onProgress } : {}),
      ...(context.lockFile
        ? {
            notFound: `the ${platform} binary ${binary.digest} that ${context.lockFile} pins for ${reference.original} is not in registry ${client.registry} (404): the artifact was deleted or the tag re-pushed; ${upgradeAdvice}`,
          }
        : {}),
    });
  } finally {
    bar?.end();
  }
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
