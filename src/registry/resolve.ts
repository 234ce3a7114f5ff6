// resolveProviderRef: provider_ref -> a verified executable in the cache for this host, pinned by the
// lock file. A locked ref whose binary is cached does no network I/O at all.
import { DstreamError } from "../errors.ts";
import { type ProviderArtifact, readArtifact } from "./artifact.ts";
import { blobPath, defaultCacheDir, isCached, recordCachedProvider } from "./cache.ts";
import { RegistryClient } from "./client.ts";
import { downloadBlob, type ProgressEvent } from "./download.ts";
import { type LockedProvider, readLockFile, updateLockFile } from "./lock-file.ts";
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
  env?: Record<string, string | undefined>;
  /** Default: a progress bar on stderr when it is a terminal. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface ResolvedProvider {
  /** A verified, executable file in the cache. */
  path: string;
  /** The digest of that file (sha256, or sha512 when the artifact says so). */
  digest: string;
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

export async function resolveProviderRef(
  reference: ProviderReference,
  options: ResolveOptions,
): Promise<ResolvedProvider> {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const platform = formatPlatform(hostPlatform());
  const key = reference.original;
  let client: RegistryClient | undefined;
  let entry = options.upgrade ? undefined : (await readLockFile(options.lockFilePath)).get(key);
  if (!entry) {
    client = new RegistryClient(reference, { env });
    const fresh = await fetchLockEntry(client, reference);
    await updateLockFile(options.lockFilePath, (providers) => providers.set(key, fresh));
    entry = fresh;
  }
  const binary = entry.platforms[platform];
  if (!binary) {
    const available = Object.keys(entry.platforms).join(", ") || "none";
    throw new DstreamError(
      "REGISTRY",
      `${reference.original} has no binary for this machine's platform ${platform} (available: ${available}); push one with dstream providers push --platform ${platform}=<file>`,
    );
  }
  if (await isCached(cacheDir, binary.digest, binary.size)) {
    return { path: blobPath(cacheDir, binary.digest), digest: binary.digest };
  }
  client ??= new RegistryClient(reference, { env });
  const onProgress = options.onProgress ?? stderrProgressBar(`pulling ${reference.original}`);
  const path = await downloadBlob({
    client,
    descriptor: binary,
    cacheDir,
    platform,
    ...(onProgress ? { onProgress } : {}),
  });
  await recordCachedProvider(cacheDir, {
    reference: key,
    platform,
    artifactDigest: entry.digest,
    digest: binary.digest,
    size: binary.size,
    pulledAt: new Date().toISOString(),
  });
  return { path, digest: binary.digest };
}
